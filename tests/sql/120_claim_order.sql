-- A claim takes the highest priority first, then the oldest run_at; it never takes a job
-- before its run_at. Each claim starts an attempt and hands out a fresh lease token.
BEGIN;
select plan(12);

create temp table worker as select api.register_executor('worker-1', array['work']) as id;

-- Enqueued in the future, then the clock moves past all but one of them.
create temp table job as
  select 'low-late' as name, (api.enqueue('work', 'a', priority => 0, run_at => now() + interval '3 minutes')).id
  union all select 'low-early', (api.enqueue('work', 'a', priority => 0, run_at => now() + interval '1 minute')).id
  union all select 'high-late', (api.enqueue('work', 'a', priority => 10, run_at => now() + interval '4 minutes')).id
  union all select 'low-middle', (api.enqueue('work', 'a', priority => 0, run_at => now() + interval '2 minutes')).id
  union all select 'future', (api.enqueue('work', 'a', priority => 100, run_at => now() + interval '1 hour')).id;

set local collab.clock_offset = '5 minutes';

create temp table claimed (n serial, name text, attempt integer, lease_token uuid, lease_expires_at timestamptz);
insert into claimed (name, attempt, lease_token, lease_expires_at)
  select job.name, c.attempt, c.lease_token, c.lease_expires_at
    from api.claim((select id from worker), array['work'], 1) c join job using (id);
insert into claimed (name, attempt, lease_token, lease_expires_at)
  select job.name, c.attempt, c.lease_token, c.lease_expires_at
    from api.claim((select id from worker), array['work'], 1) c join job using (id);
insert into claimed (name, attempt, lease_token, lease_expires_at)
  select job.name, c.attempt, c.lease_token, c.lease_expires_at
    from api.claim((select id from worker), array['work'], 1) c join job using (id);
insert into claimed (name, attempt, lease_token, lease_expires_at)
  select job.name, c.attempt, c.lease_token, c.lease_expires_at
    from api.claim((select id from worker), array['work'], 1) c join job using (id);

select results_eq($$select name from claimed order by n$$,
  $$values ('high-late'), ('low-early'), ('low-middle'), ('low-late')$$,
  'one by one: the highest priority first, then the oldest run_at');
select is_empty($$select * from api.claim((select id from worker), array['work'], 10)$$,
  'the job due in an hour is never claimed before its run_at');

select is((select count(distinct lease_token) from claimed), 4::bigint, 'every claim hands out its own lease token');
select ok((select bool_and(lease_token is not null) from claimed), 'no lease token is null');
select ok((select bool_and(attempt = 1) from claimed), 'each claimed job starts attempt 1');
select ok((select bool_and(lease_expires_at = now() + interval '5 minutes' + interval '30 seconds') from claimed),
  'the lease runs the queue''s 30 seconds from the (moved) clock');

select results_eq(
  $$select status, executor_id, attempt, claimed_at from tests.all_jobs where id = (select id from job where name = 'high-late')$$,
  $$select 'running'::collab.job_status, (select id from worker), 1, now() + interval '5 minutes'$$,
  'the claimed job is running under the executor, claimed at the clock''s time');

-- A batch claim: max_jobs caps it, the executor's own queues are the default.
select api.enqueue('work', 'b') from generate_series(1, 5);
select is((select count(*) from api.claim((select id from worker), max_jobs => 3)), 3::bigint,
  'max_jobs caps a batch claim (queues default to the executor''s)');
select is((select count(*) from api.claim((select id from worker), array['work'], 10)), 2::bigint,
  'the next claim gets the rest');

-- A new attempt gets a new token: fail the first job and claim it again.
select api.fail(j.id, c.lease_token, '{"oops": 1}', retry_in => interval '0')
  from job j join claimed c using (name) where j.name = 'low-early';
create temp table reclaimed as select * from api.claim((select id from worker), array['work'], 1, 60);
select is((select id from reclaimed), (select id from job where name = 'low-early'), 'the retried job is claimed again');
select is((select attempt from reclaimed), 2, 'its attempt is now 2');
select isnt((select lease_token from reclaimed), (select lease_token from claimed where name = 'low-early'),
  'with a lease token different from the first attempt''s');

select * from finish();
ROLLBACK;
