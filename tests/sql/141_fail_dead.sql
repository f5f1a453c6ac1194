-- A non-retryable failure, or a failure on the last attempt, sends the job to the
-- dead-letter queue: status dead, finished, last_error kept, one `dead` event.
BEGIN;
select plan(11);

create temp table worker as select api.register_executor('worker-1', array['dlq']) as id;

-- Non-retryable.
create temp table job as select * from api.enqueue('dlq', 'a', max_attempts => 5);
create temp table dead as
  select f.* from api.claim((select id from worker), array['dlq'], 1) c
    cross join lateral api.fail(c.id, c.lease_token, '{"message": "bad input"}', retryable => false) f;
select is((select status from dead), 'dead', 'a non-retryable failure is dead at once');
select is((select attempt from dead), 1, 'after its first attempt');
select is((select finished_at from dead), now(), 'finished now');
select is((select last_error ->> 'reason' from dead), 'non_retryable', 'last_error says non_retryable');
select is((select last_error -> 'error' from dead), '{"message": "bad input"}'::jsonb, 'and keeps the error');
select results_eq($$select type::text, data -> 'error' ->> 'reason' from collab.job_events where job_id = (select id from job) and type = 'dead'$$,
  $$values ('dead', 'non_retryable')$$, 'one dead event carries the error');

-- Exhausted attempts.
create temp table last as select * from api.enqueue('dlq', 'b', max_attempts => 2);
select api.fail(c.id, c.lease_token, '{"n": 1}', retry_in => interval '0') from api.claim((select id from worker), array['dlq'], 1) c;
create temp table exhausted as
  select f.* from api.claim((select id from worker), array['dlq'], 1) c
    cross join lateral api.fail(c.id, c.lease_token, '{"n": 2}') f;
select is((select id from exhausted), (select id from last), 'the second attempt of a 2-attempt job failed');
select is((select status from exhausted), 'dead', 'a retryable failure on the last attempt is dead');
select is((select last_error ->> 'reason' from exhausted), 'max_attempts_exceeded', 'last_error says max_attempts_exceeded');
select results_eq($$select type::text, attempt from collab.job_events where job_id = (select id from last) order by id$$,
  $$values ('enqueued', 0), ('claimed', 1), ('retry_scheduled', 1), ('claimed', 2), ('dead', 2)$$,
  'its history: enqueued, claimed, retry_scheduled, claimed, dead');
select is_empty($$select * from api.claim((select id from worker), array['dlq'], 10)$$, 'dead jobs are never claimed');

select * from finish();
ROLLBACK;
