-- api.enqueue_batch checks every element before writing anything: the first bad element is
-- PT400 invalid_input naming its index and field, and not one job of the batch is written.
BEGIN;
select plan(23);

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
  select (select count(*) from tests.all_jobs) as jobs, (select count(*) from collab.job_events) as events;

select throws_ok($$select api.enqueue_batch('{"queue": "q"}')$$, 'PT400', null, 'jobs must be an array');
select is(pg_temp.error_of($$select api.enqueue_batch(null)$$) ->> 'field', 'jobs', 'a null batch names field jobs');
select throws_ok(
  $$select api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'q', 'type', 't')) from generate_series(1, 10001)))$$,
  'PT400', null, 'more than 10000 elements are refused');

select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t"}, 42]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "jobs", "index": 1}'::jsonb,
  'a non-object element is refused, naming its index');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t"}, {"queue": "q", "type": "t"}, ["q", "t"]]')$$) -> 'index',
  '2'::jsonb, 'an array element is refused, naming its index');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t"}, {"queue": "q", "type": "t", "priority": "high"}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "priority", "index": 1}'::jsonb,
  'a string priority is refused, naming the index and the field');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t", "priority": 1.5}]')$$) ->> 'field',
  'priority', 'a fractional priority is refused');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": 7, "type": "t"}]')$$) ->> 'field',
  'queue', 'a number as queue is refused');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q"}]')$$) ->> 'field',
  'type', 'a missing type is refused');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t", "max_attempts": "3"}]')$$) ->> 'field',
  'max_attempts', 'a string max_attempts is refused');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t", "idempotency_key": 5}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "idempotency_key", "index": 0}'::jsonb,
  'a number as idempotency_key is refused');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t", "run_at": 1700000000}]')$$) ->> 'field',
  'run_at', 'a number as run_at is refused');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t", "run_at": "next tuesday-ish"}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "run_at", "index": 0}'::jsonb,
  'a run_at string that is not a timestamp is PT400 on field run_at, naming its index');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t", "delay": 30}]')$$) ->> 'field',
  'delay', 'a number as delay is refused');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t", "delay": "soonish"}]')$$) ->> 'sqlstate',
  'PT400', 'a delay string that is not an interval is PT400');
select is(pg_temp.error_of(format($$select api.enqueue_batch('[{"queue": "q", "type": "t"}, {"queue": "q", "type": "t", "payload": {"blob": "%s"}}]')$$,
                                  repeat('x', 1048576))),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "payload", "index": 1}'::jsonb,
  'a payload over 1 MiB is refused, naming its index');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t"}, {"queue": "bad queue", "type": "t"}, {"queue": "q", "type": "bad type"}]')$$) -> 'index',
  '1'::jsonb, 'with several bad elements, the first is reported');

-- The names are tested on the batch's distinct values first: one bad name among many good
-- ones is still found, at its own index, and a name that is no string at all too.
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t"}, {"queue": "q", "type": "t:ok"},
                                                        {"queue": "q", "type": "t"}, {"queue": "q", "type": ".bad"}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "type", "index": 3}'::jsonb,
  'a bad type after good ones is refused, naming its index');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t"}, {"queue": {"name": "q"}, "type": "t"}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "queue", "index": 1}'::jsonb,
  'an object as queue is refused, naming its index');
-- Only a batch with a run_at or a delay casts them: a bad one after elements without is found.
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "q", "type": "t"}, {"queue": "q", "type": "t", "delay": "30 seconds"},
                                                        {"queue": "q", "type": "t", "run_at": "not a time"}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "run_at", "index": 2}'::jsonb,
  'a bad run_at after elements without one is refused, naming its index');

select is((select count(*) from tests.all_jobs), (select jobs from before),
  'no job of any refused batch was written, not even its good elements');
select is((select count(*) from collab.job_events), (select events from before), 'and no event');

select is((select count(*) from api.enqueue_batch('[]')), 0::bigint, 'an empty batch enqueues nothing');

select * from finish();
ROLLBACK;
