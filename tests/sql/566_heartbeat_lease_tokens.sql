-- A heartbeat with lease_tokens is fenced like complete and fail (revision 0037; PRODUCT.md,
-- "fencing"): a job named with a token that is not its current lease token is lost, and that
-- pair changes nothing (no lease extended, no pending cancel applied). The case it exists for:
-- the same executor claimed the job again after its lease expired, and the earlier attempt's
-- token no longer extends the new attempt's lease. Counts that differ, a null token, or tokens
-- without job_ids are PT400 invalid_input naming lease_tokens. Without lease_tokens a named
-- job is held under any token (tests/sql/565).
BEGIN;
select plan(23);

create temp table worker as select api.register_executor('fenced-1', array['hbt']) as id;
create temp table job as
  select 'a' as name, (api.enqueue('hbt', 't')).id
  union all select 'b', (api.enqueue('hbt', 't')).id
  union all select 'c', (api.enqueue('hbt', 't')).id;
create temp table claim1 as select id, lease_token from api.claim((select id from worker), array['hbt'], 3, 30);
create function pg_temp.job(n text) returns bigint language sql as $$ select id from job where name = n $$;
create function pg_temp.token(n text) returns uuid language sql as $$
  select lease_token from claim1 where id = pg_temp.job(n) $$;
create function pg_temp.lease(n text) returns timestamptz language sql as $$
  select lease_expires_at from tests.all_jobs where id = pg_temp.job(n) $$;
create function pg_temp.beat(ids bigint[], tokens uuid[]) returns api.heartbeat_result language sql as $$
  select * from api.heartbeat((select id from worker), ids, tokens) $$;

select is((select count(*) from claim1), 3::bigint, 'the worker holds a, b and c');

-- 20 s on: a with its token, b with a token that is not b's.
set local collab.clock_offset = '20 seconds';
select tests.side_reads() as side0 \gset
create temp table beat as
  select * from pg_temp.beat(array[pg_temp.job('a'), pg_temp.job('b')], array[pg_temp.token('a'), gen_random_uuid()]);
select is((select extended from beat), 1, 'of two named jobs, the one named with its current token is extended');
select is(pg_temp.lease('a'), now() + interval '50 seconds', 'a''s lease, by its lease_seconds from now');
select is((select lost from beat), array[pg_temp.job('b')], 'the job named with another token is lost');
select is(pg_temp.lease('b'), now() + interval '30 seconds', 'and its lease is as its claim left it');
select is(tests.side_reads() - :side0, 0::bigint,
  'the named jobs are still found by primary key: no entry of another index of collab.jobs is read');

-- A pending cancel of b: a heartbeat with a stale token leaves it pending, the current token applies it.
select api.cancel(pg_temp.job('b'));
create temp table stale_cancel as select * from pg_temp.beat(array[pg_temp.job('b')], array[gen_random_uuid()]);
select results_eq($$select cancelled, lost, extended from stale_cancel$$,
  $$values ('{}'::bigint[], array[pg_temp.job('b')], 0)$$,
  'a stale token does not apply a pending cancel: the pair is lost and changes nothing');
select results_eq($$select status::text, cancel_requested from tests.all_jobs where id = pg_temp.job('b')$$,
  $$values ('running', true)$$, 'the job runs on with its cancel pending');
create temp table live_cancel as select * from pg_temp.beat(array[pg_temp.job('b')], array[pg_temp.token('b')]);
select results_eq($$select cancelled, lost from live_cancel$$, $$values (array[pg_temp.job('b')], '{}'::bigint[])$$,
  'its current token applies it');
select is((select status::text from tests.all_jobs where id = pg_temp.job('b')), 'cancelled', 'the job is cancelled');

-- 30 s on, a beat naming nothing keeps the executor online (silent for three intervals, 15 s, the
-- reap would release a too). 40 s on: c's lease (never extended) expires; 42 s on, the same
-- executor claims c again (attempt 2).
set local collab.clock_offset = '30 seconds';
select extended from api.heartbeat((select id from worker), '{}'::bigint[]);
set local collab.clock_offset = '40 seconds';
select results_eq($$select (r ->> 'expired')::integer, (r ->> 'offline')::integer from (select collab.reap() r) x$$,
  $$values (1, 0)$$, 'c''s lease expires, and the executor stays online');
set local collab.clock_offset = '42 seconds';  -- past the retry's backoff (1 s at most)
create temp table claim2 as select id, lease_token, attempt from api.claim((select id from worker), array['hbt'], 1, 30);
select results_eq($$select id, attempt from claim2$$, $$values (pg_temp.job('c'), 2)$$,
  'the same executor claims c again, attempt 2, under a new token');
create temp table stale as select * from pg_temp.beat(array[pg_temp.job('c')], array[pg_temp.token('c')]);
select results_eq($$select extended, lost from stale$$, $$values (0, array[pg_temp.job('c')])$$,
  'the first attempt''s token does not extend the second attempt''s lease: c is lost to it');
select is(pg_temp.lease('c'), now() + interval '72 seconds', 'the second attempt''s lease is as its claim left it');
set local collab.clock_offset = '44 seconds';
create temp table both_named as
  select * from pg_temp.beat(array[pg_temp.job('c'), pg_temp.job('c')], array[pg_temp.token('c'), (select lease_token from claim2)]);
select results_eq($$select extended, lost from both_named$$, $$values (1, array[pg_temp.job('c')])$$,
  'named under both tokens: the current one extends the lease once, the stale one is lost');
select is(pg_temp.lease('c'), now() + interval '74 seconds', 'the lease extended by its lease_seconds from now (44 s on)');
set local collab.clock_offset = '45 seconds';
create temp table untokened as select * from api.heartbeat((select id from worker), array[pg_temp.job('c')]);
select results_eq($$select extended, lost from untokened$$, $$values (1, '{}'::bigint[])$$,
  'without lease_tokens the named job is held under any token (as revision 0036)');

-- A null id names nothing, with a token or without (as before revision 0037).
create temp table null_id as
  select * from pg_temp.beat(array[null, pg_temp.job('c')]::bigint[], array[gen_random_uuid(), (select lease_token from claim2)]);
select results_eq($$select extended, lost from null_id$$, $$values (1, '{}'::bigint[])$$,
  'a null id beside a held job: the job extended, nothing lost');
select results_eq($$select extended, lost from api.heartbeat((select id from worker), array[null]::bigint[])$$,
  $$values (0, '{}'::bigint[])$$, 'a null id alone, without tokens: nothing extended, nothing lost');

-- Bad input, 50 s on: PT400 invalid_input naming lease_tokens, and nothing recorded.
set local collab.clock_offset = '50 seconds';
select throws_ok(
  format($$select api.heartbeat(%L, array[1, 2]::bigint[], array[gen_random_uuid()])$$, (select id from worker)),
  'PT400', 'lease_tokens holds 1 tokens for 2 job_ids; name one token per job, in the same order',
  'one token for two jobs is refused');
select throws_ok(
  format($$select api.heartbeat(%L, null, array[gen_random_uuid()])$$, (select id from worker)),
  'PT400', 'lease_tokens holds 1 tokens for 0 job_ids; name one token per job, in the same order',
  'tokens without job_ids are refused');
select throws_ok(
  format($$select api.heartbeat(%L, array[%s]::bigint[], array[null]::uuid[])$$, (select id from worker), pg_temp.job('c')),
  'PT400', 'lease_tokens holds a null token', 'a null token is refused');
select results_eq($$select e.last_seen_at, j.lease_expires_at from collab.executors e, tests.all_jobs j
                     where e.id = (select id from worker) and j.id = pg_temp.job('c')$$,
  $$values (now() + interval '45 seconds', now() + interval '75 seconds')$$,
  'the refused heartbeats recorded no presence and extended no lease (both as the beat at 45 s left them)');

select * from finish();
ROLLBACK;
