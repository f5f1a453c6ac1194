-- A paused queue hands out nothing until resumed, and a queue's concurrency limit caps
-- how many of its jobs run at once, across claims and executors.
BEGIN;
select plan(10);

create temp table worker as
  select api.register_executor('worker-1', array['paused', 'limited']) as id
  union all select api.register_executor('worker-2', array['paused', 'limited']);

select api.enqueue('paused', 'a') from generate_series(1, 3);
select is((select paused from api.pause_queue('paused')), true, 'pause_queue pauses the queue');
select is_empty($$select * from api.claim((select min(id::text)::uuid from worker), array['paused'], 10)$$,
  'a paused queue gives nothing');
select is((select count(*) from tests.all_jobs where queue = 'paused' and status = 'queued'), 3::bigint,
  'its jobs stay queued');
select is((select paused from api.resume_queue('paused')), false, 'resume_queue resumes it');
select is((select count(*) from api.claim((select min(id::text)::uuid from worker), array['paused'], 10)), 3::bigint,
  'once resumed, its jobs are claimed');

select is((select concurrency_limit from api.configure_queue('limited', concurrency_limit => 2)), 2,
  'the limited queue allows 2 running jobs');
select api.enqueue('limited', 'b') from generate_series(1, 5);
select is((select count(*) from api.claim((select min(id::text)::uuid from worker), array['limited'], 10)), 2::bigint,
  'a claim of 10 gets only 2');
select is_empty($$select * from api.claim((select max(id::text)::uuid from worker), array['limited'], 10)$$,
  'another executor gets nothing while 2 run');

select api.complete(j.id, j.lease_token) from tests.all_jobs j
 where j.id = (select min(id) from tests.all_jobs where queue = 'limited' and status = 'running');
select is((select count(*) from api.claim((select max(id::text)::uuid from worker), array['limited'], 10)), 1::bigint,
  'when one finishes, one more may run');

select api.configure_queue('limited', concurrency_limit => 0);
select is((select count(*) from api.claim((select max(id::text)::uuid from worker), array['limited'], 10)), 2::bigint,
  'concurrency_limit 0 removes the limit: the rest is claimed');

select * from finish();
ROLLBACK;
