-- A lease that runs out counts as a failed attempt. The next claim of that queue reclaims it
-- (no reaper needed): the job is retried after a backoff (`lease_expired`), or goes dead when
-- it has no attempts left.
BEGIN;
select plan(10);

create temp table worker as select api.register_executor('worker-1', array['lease']) as id;
create temp table job as select * from api.enqueue('lease', 'a', max_attempts => 2);
create temp table first as select * from api.claim((select id from worker), array['lease'], 1, 30);

set local collab.clock_offset = '29 seconds';
select is_empty($$select * from api.claim((select id from worker), array['lease'], 1)$$,
  'before its lease runs out the job is not reclaimed');
select is((select status from tests.all_jobs where id = (select id from job)), 'running'::collab.job_status, 'and still runs');

set local collab.clock_offset = '1 minute';
select is_empty($$select * from api.claim((select id from worker), array['lease'], 1)$$,
  'after it ran out, a claim expires it; the retry waits for its backoff');
select results_eq(
  $$select status::text, attempt, lease_expires_at, last_error ->> 'reason' from tests.all_jobs where id = (select id from job)$$,
  $$values ('queued', 1, null::timestamptz, 'lease_expired')$$,
  'the job is queued again; the expired attempt counts');
select ok((select run_at - collab.clock() between interval '0.8 seconds' and interval '1 second' from tests.all_jobs where id = (select id from job)),
  'run_at is the queue''s backoff away (1 s, jitter 0.2)');
select results_eq(
  $$select type::text, attempt, executor_id from collab.job_events where job_id = (select id from job) and type = 'lease_expired'$$,
  $$select 'lease_expired', 1, (select id from worker)$$,
  'one lease_expired event names the attempt and the executor');

set local collab.clock_offset = '2 minutes';
create temp table second as select * from api.claim((select id from worker), array['lease'], 1, 30);
select is((select attempt from second), 2, 'the next claim takes it for attempt 2');

set local collab.clock_offset = '3 minutes';
select is_empty($$select * from api.claim((select id from worker), array['lease'], 1)$$,
  'when its last lease runs out a claim expires it for good');
select results_eq(
  $$select status::text, attempt, finished_at, last_error ->> 'reason' from tests.all_jobs where id = (select id from job)$$,
  $$values ('dead', 2, now() + interval '3 minutes', 'lease_expired')$$,
  'with no attempts left the job is dead');
select results_eq(
  $$select type::text from collab.job_events where job_id = (select id from job) order by id$$,
  $$values ('enqueued'), ('claimed'), ('lease_expired'), ('claimed'), ('dead')$$,
  'its history: enqueued, claimed, lease_expired, claimed, dead');

select * from finish();
ROLLBACK;
