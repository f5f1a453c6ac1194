-- A client enqueues one job: it is queued at once with the queue's defaults, the queue is
-- created on first use, and exactly one `enqueued` event tells of it.
BEGIN;
select plan(14);

create temp table job as
  select * from api.enqueue(queue => 'emails', type => 'send', payload => '{"to": "a@example.com"}', priority => 5);

select is((select status from job), 'queued', 'the new job is queued');
select is((select queue from job), 'emails', 'on the queue asked for');
select is((select type from job), 'send', 'with the type asked for');
select is((select payload from job), '{"to": "a@example.com"}'::jsonb, 'with the payload as sent');
select is((select priority from job), 5, 'with the priority asked for');
select is((select attempt from job), 0, 'no attempt has started');
select is((select max_attempts from job), 5, 'max_attempts defaults to the queue''s (5)');
select is((select run_at from job), now(), 'without run_at or delay it may run now');
select is((select duplicate from job), false, 'it is not an idempotent duplicate');
select is((select created_at from job), now(), 'created_at is the clock''s time');

select ok(exists (select 1 from collab.queues q where q.name = 'emails' and not q.paused),
  'the queue was created on first use, not paused');

select results_eq(
  $$select type::text, attempt, executor_id from collab.job_events where job_id = (select id from job)$$,
  $$values ('enqueued', 0, null::uuid)$$,
  'exactly one enqueued event was written');

select is((select payload from api.enqueue('emails', 'send')), '{}'::jsonb,
  'without a payload the job gets an empty object');

select is((select max_attempts from api.enqueue('emails', 'send', max_attempts => 2)), 2,
  'max_attempts given by the caller wins over the queue''s');

select * from finish();
ROLLBACK;
