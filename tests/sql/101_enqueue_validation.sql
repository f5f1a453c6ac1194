-- Every bad argument of api.enqueue is PT400 invalid_input naming the field, and nothing is
-- written: no job, no event, no queue.
BEGIN;
select plan(26);

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

create temp table before as
  select (select count(*) from tests.all_jobs) as jobs, (select count(*) from collab.job_events) as events,
         (select count(*) from collab.queues) as queues;

-- queue
select throws_ok($$select api.enqueue('bad queue', 'send')$$, 'PT400', null, 'a queue name with a space is refused');
select is(pg_temp.error_of($$select api.enqueue('bad queue', 'send')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "queue", "index": 0}'::jsonb,
  'the DETAIL names reason invalid_input and field queue');
select throws_ok($$select api.enqueue(null, 'send')$$, 'PT400', null, 'a missing queue is refused');
select throws_ok($$select api.enqueue('', 'send')$$, 'PT400', null, 'an empty queue name is refused');
select throws_ok($$select api.enqueue(repeat('q', 101), 'send')$$, 'PT400', null, 'a 101-character queue name is refused');
select throws_ok($$select api.enqueue('-leading-dash', 'send')$$, 'PT400', null, 'a queue name must start with a letter or digit');

-- type
select throws_ok($$select api.enqueue('emails', 'send mail')$$, 'PT400', null, 'a type with a space is refused');
select is(pg_temp.error_of($$select api.enqueue('emails', null)$$) ->> 'field', 'type', 'a missing type names field type');
select throws_ok($$select api.enqueue('emails', repeat('t', 101))$$, 'PT400', null, 'a 101-character type is refused');

-- priority
select throws_ok($$select api.enqueue('emails', 'send', priority => 1000001)$$, 'PT400', null, 'priority above 1000000 is refused');
select throws_ok($$select api.enqueue('emails', 'send', priority => -1000001)$$, 'PT400', null, 'priority below -1000000 is refused');
select is(pg_temp.error_of($$select api.enqueue('emails', 'send', priority => 1000001)$$) ->> 'field', 'priority',
  'the DETAIL names field priority');

-- max_attempts
select throws_ok($$select api.enqueue('emails', 'send', max_attempts => 0)$$, 'PT400', null, 'max_attempts 0 is refused');
select throws_ok($$select api.enqueue('emails', 'send', max_attempts => 1001)$$, 'PT400', null, 'max_attempts 1001 is refused');
select is(pg_temp.error_of($$select api.enqueue('emails', 'send', max_attempts => 0)$$) ->> 'field', 'max_attempts',
  'the DETAIL names field max_attempts');

-- idempotency_key
select throws_ok($$select api.enqueue('emails', 'send', idempotency_key => '')$$, 'PT400', null, 'an empty idempotency_key is refused');
select throws_ok($$select api.enqueue('emails', 'send', idempotency_key => repeat('k', 256))$$, 'PT400', null,
  'a 256-character idempotency_key is refused');
select is(pg_temp.error_of($$select api.enqueue('emails', 'send', idempotency_key => '')$$) ->> 'field', 'idempotency_key',
  'the DETAIL names field idempotency_key');

-- payload
select throws_ok($$select api.enqueue('emails', 'send', jsonb_build_object('blob', repeat('x', 1048576)))$$, 'PT400', null,
  'a payload larger than 1 MiB is refused');
select is(pg_temp.error_of($$select api.enqueue('emails', 'send', jsonb_build_object('blob', repeat('x', 1048576)))$$) ->> 'field',
  'payload', 'the DETAIL names field payload');

-- Nothing was written by any refused call.
select is((select count(*) from tests.all_jobs), (select jobs from before), 'no job was written');
select is((select count(*) from collab.job_events), (select events from before), 'no event was written');
select is((select count(*) from collab.queues), (select queues from before), 'no queue was created');

-- The limits themselves are allowed.
select lives_ok($$select api.enqueue(repeat('q', 100), 'send')$$, 'a 100-character queue name is fine');
select lives_ok($$select api.enqueue('emails', 'send', priority => -1000000)$$, 'priority -1000000 is the lowest allowed');
select lives_ok($$select api.enqueue('emails', 'send', jsonb_build_object('blob', repeat('x', 1000000)))$$,
  'a payload just under 1 MiB is fine');

select * from finish();
ROLLBACK;
