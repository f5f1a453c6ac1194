-- run_at and delay decide when a job may first be claimed: a future run_at is kept, a past
-- one becomes now, a delay is added; claims skip the job until the clock reaches it.
BEGIN;
select plan(13);

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

create temp table worker as select api.register_executor('worker-1', array['later']) as id;

select is((select run_at from api.enqueue('later', 'send', run_at => now() + interval '1 hour')),
  now() + interval '1 hour', 'a future run_at is kept');
select is((select run_at from api.enqueue('later', 'send', run_at => now() - interval '1 day')),
  now(), 'a past run_at becomes now');
select is((select run_at from api.enqueue('later', 'send', delay => interval '10 minutes')),
  now() + interval '10 minutes', 'a delay is added to now');
select is((select run_at from api.enqueue('later', 'send', run_at => now() + interval '1 hour', delay => interval '5 minutes')),
  now() + interval '65 minutes', 'run_at and delay add up');
select is((select run_at from api.enqueue_batch('[{"queue": "later", "type": "send", "delay": "2 hours"}]')),
  now() + interval '2 hours', 'enqueue_batch takes delay as an interval string');
select is((select run_at from api.enqueue_batch('[{"queue": "later", "type": "send", "run_at": "2031-06-01T12:00:00+02:00"}]')),
  '2031-06-01T10:00:00Z'::timestamptz, 'enqueue_batch takes run_at as an ISO 8601 string');

select results_eq($$select type, run_at from api.claim((select id from worker), array['later'], 10, 86400)$$,
  $$values ('send', now())$$, 'now, only the job whose run_at was in the past is due');

set local collab.clock_offset = '11 minutes';
select is((select count(*) from api.claim((select id from worker), array['later'], 10, 86400)), 1::bigint,
  'eleven minutes later the job delayed 10 minutes is due');

set local collab.clock_offset = '66 minutes';
select is((select count(*) from api.claim((select id from worker), array['later'], 10, 86400)), 2::bigint,
  'after 66 minutes the two jobs due in an hour are claimed too');

-- Numbers and strings at the edges.
select is((select priority from api.enqueue_batch('[{"queue": "later", "type": "send", "priority": 2.0, "max_attempts": 3.0}]')),
  2, 'integral JSON numbers such as 2.0 are accepted as integers');
select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "later", "type": "send"}, {"queue": "later", "type": "send", "delay": "soonish"}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "delay", "index": 1}'::jsonb,
  'a delay string that is not an interval names field delay and its index');
select is(pg_temp.error_of($$select api.enqueue('later', 'send', delay => interval '-1 minute')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "delay", "index": 0}'::jsonb,
  'a negative delay is refused');
select is(pg_temp.error_of($$select api.enqueue('later', 'send', run_at => now() + interval '11 years')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "run_at", "index": 0}'::jsonb,
  'a run_at more than 10 years ahead is refused');

select * from finish();
ROLLBACK;
