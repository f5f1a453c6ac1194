-- A retryable failure with attempts left sends the job back to queued after the queue's
-- backoff: min(max, base * 2^(attempt-1)) reduced by at most the jitter fraction; retry_in
-- overrides it. One retry_scheduled event carries the error.
BEGIN;
select plan(14);

-- The DETAIL of the error a statement raises, with its SQLSTATE (null when it succeeds).
create function pg_temp.error_of(statement text) returns jsonb language plpgsql as $$
declare
  state text;
  detail text;
begin
  execute statement;
  return null;
exception when others then
  get stacked diagnostics state = returned_sqlstate, detail = pg_exception_detail;
  return coalesce(nullif(detail, '')::jsonb, '{}'::jsonb) || jsonb_build_object('sqlstate', state);
end
$$;

create temp table worker as select api.register_executor('worker-1', array['retry']) as id;
select api.configure_queue('retry', backoff_base_seconds => 10, backoff_max_seconds => 60, backoff_jitter => 0.5);
create temp table job as select * from api.enqueue('retry', 'a', max_attempts => 10);

-- Claim the job and fail it (retryable), with an optional retry_in.
create function pg_temp.claim_and_fail(retry_in interval default null) returns api.job language sql as $$
  select f.* from api.claim((select id from worker), array['retry'], 1) c
    cross join lateral api.fail(c.id, c.lease_token, jsonb_build_object('attempt', c.attempt), true, retry_in) f
$$;

create temp table failed as select * from pg_temp.claim_and_fail();
select is((select status from failed), 'queued', 'a retryable failure sends the job back to queued');
select is((select attempt from failed), 1, 'after one attempt');
select ok((select run_at - now() between interval '5 seconds' and interval '10 seconds' from failed),
  'attempt 1: run_at is 5-10 s away (10 s, jitter 0.5)');
select is((select last_error from failed) - 'at' - 'executor_id',
  '{"reason": "failed", "error": {"attempt": 1}, "attempt": 1}'::jsonb, 'last_error keeps the error and the attempt');
select results_eq(
  $$select type::text, data -> 'error' -> 'error' from collab.job_events where job_id = (select id from job) and type = 'retry_scheduled'$$,
  $$values ('retry_scheduled', '{"attempt": 1}'::jsonb)$$,
  'one retry_scheduled event carries the error');
select is_empty($$select * from api.claim((select id from worker), array['retry'], 1)$$, 'the job is not claimed before its backoff');

set local collab.clock_offset = '1 minute';
select is((select run_at from pg_temp.claim_and_fail(interval '0')), now() + interval '1 minute',
  'retry_in 0 overrides the backoff: run_at is now');
select ok((select run_at - collab.clock() between interval '20 seconds' and interval '40 seconds' from pg_temp.claim_and_fail()),
  'attempt 3: run_at is 20-40 s away (40 s, jitter 0.5)');
set local collab.clock_offset = '2 minutes';
select ok((select run_at - collab.clock() between interval '30 seconds' and interval '60 seconds' from pg_temp.claim_and_fail()),
  'attempt 4: capped by the max: 30-60 s away (60 s, jitter 0.5)');
set local collab.clock_offset = '3 minutes';
select is((select run_at - collab.clock() from pg_temp.claim_and_fail(interval '2 hours')), interval '2 hours',
  'retry_in 2 hours overrides the backoff');
select is((select attempt from tests.all_jobs where id = (select id from job)), 5, 'five attempts were made');
select is((select count(*) from collab.job_events where job_id = (select id from job) and type = 'retry_scheduled'), 5::bigint,
  'one retry_scheduled event per failed attempt');

select is(pg_temp.error_of($$select api.fail(1, gen_random_uuid(), retry_in => interval '-1 second')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "retry_in"}'::jsonb, 'a negative retry_in is refused');
select throws_ok($$select api.fail(1, gen_random_uuid(), retry_in => interval '31 days')$$, 'PT400', null,
  'retry_in over 30 days is refused');

select * from finish();
ROLLBACK;
