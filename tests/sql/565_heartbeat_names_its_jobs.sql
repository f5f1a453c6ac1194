-- A heartbeat with job_ids extends the leases of the executor's jobs among them and no others
-- (revision 0036). A job the executor holds but does not name (a claim whose answer never
-- reached the worker) keeps its lease, which expires: the job is retried, or cancelled when a
-- cancel was pending. Without job_ids (null) every lease the executor holds is extended, as
-- before; an empty array extends none. The named jobs are found by primary key (tests/sql/530
-- holds it under generic plans with 400 jobs running).
BEGIN;
select plan(18);

create temp table worker as select api.register_executor('named-1', array['hbn']) as id;
create temp table other as select api.register_executor('named-2', array['hbn']) as id;
create temp table job as
  select 'a' as name, (api.enqueue('hbn', 't')).id
  union all select 'b', (api.enqueue('hbn', 't')).id
  union all select 'c', (api.enqueue('hbn', 't')).id
  union all select 'd', (api.enqueue('hbn', 't')).id;
select api.claim((select id from worker), array['hbn'], 3, 30);  -- a, b and c
select api.claim((select id from other), array['hbn'], 1, 30);   -- d
create function pg_temp.job(n text) returns bigint language sql as $$ select id from job where name = n $$;
create function pg_temp.lease(n text) returns timestamptz language sql as $$
  select lease_expires_at from tests.all_jobs where id = pg_temp.job(n) $$;

-- 20 s on: the worker names a, and d (another executor's).
set local collab.clock_offset = '20 seconds';
select tests.side_reads() as side0 \gset
create temp table beat as
  select * from api.heartbeat((select id from worker), array[pg_temp.job('a'), pg_temp.job('d')]);
select is((select extended from beat), 1, 'a heartbeat naming one of its three jobs extends one lease');
select is(pg_temp.lease('a'), now() + interval '50 seconds', 'the named job''s, by its lease_seconds from now');
select results_eq($$select pg_temp.lease(n) from unnest(array['b', 'c']) n$$,
  $$values (now() + interval '30 seconds'), (now() + interval '30 seconds')$$,
  'the two jobs it holds but did not name keep the leases their claim gave');
select is((select lost from beat), array[pg_temp.job('d')], 'a named job another executor holds is lost');
select is(tests.side_reads() - :side0, 0::bigint,
  'the named jobs are found by primary key: no entry of another index of collab.jobs is read');
select is((select last_seen_at from collab.executors where id = (select id from worker)), now() + interval '20 seconds',
  'it records the executor''s presence');

-- An empty array: presence only.
set local collab.clock_offset = '25 seconds';
create temp table empty_beat as select * from api.heartbeat((select id from worker), '{}'::bigint[]);
select results_eq($$select extended, lost, cancelled from empty_beat$$,
  $$values (0, '{}'::bigint[], '{}'::bigint[])$$, 'an empty array extends no lease and names nothing lost');
select is(pg_temp.lease('a'), now() + interval '50 seconds', 'the named job''s lease is as the last heartbeat left it');
select is((select last_seen_at from collab.executors where id = (select id from worker)), now() + interval '25 seconds',
  'and the presence is recorded');

-- A cancel asked for c, which the worker does not name: the heartbeat leaves it running.
select api.cancel(pg_temp.job('c'));
create temp table beat2 as select * from api.heartbeat((select id from worker), array[pg_temp.job('a')]);
select results_eq($$select extended, cancelled from beat2$$, $$values (1, '{}'::bigint[])$$,
  'a pending cancel of a job it does not name is not its to report');
select is((select status::text from tests.all_jobs where id = pg_temp.job('c')), 'running', 'that job stays running');

-- 40 s on: past the claim's 30 s, the unnamed jobs' leases expire; the named one's does not.
set local collab.clock_offset = '40 seconds';
select is((collab.reap() ->> 'expired')::integer, 3, 'the two unnamed leases expire (and the other executor''s, never extended)');
select results_eq($$select j.status::text, j.last_error ->> 'reason' from tests.all_jobs j where j.id = pg_temp.job('b')$$,
  $$values ('queued', 'lease_expired')$$, 'the unnamed job is queued again (lease_expired), to be retried');
select results_eq($$select j.status::text from tests.all_jobs j where j.id = pg_temp.job('c')$$,
  $$values ('cancelled')$$, 'the unnamed job with a pending cancel is cancelled');
select is((select status::text from tests.all_jobs where id = pg_temp.job('a')), 'running', 'the named job runs on');
select is((select count(*) from collab.job_events where job_id = pg_temp.job('b') and type = 'lease_expired'), 1::bigint,
  'one lease_expired event for it');

-- Without job_ids every lease the executor holds is extended.
select api.enqueue('hbn', 't');
create temp table again as select id from api.claim((select id from worker), array['hbn'], 1, 30);
create temp table all_beat as select * from api.heartbeat((select id from worker));
select results_eq($$select extended, lost from all_beat$$, $$values (2, '{}'::bigint[])$$,
  'a heartbeat without job_ids extends both jobs the executor holds, names none lost');
select results_eq($$select lease_expires_at from tests.all_jobs where id in (pg_temp.job('a'), (select id from again))$$,
  $$values (now() + interval '70 seconds'), (now() + interval '70 seconds')$$, 'each by its lease_seconds from now');

select * from finish();
ROLLBACK;
