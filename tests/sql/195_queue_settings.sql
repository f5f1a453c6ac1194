-- Queues are paused, resumed and configured by name (created on first use); every bad
-- setting is PT400 invalid_input naming the field, and a null keeps a setting.
BEGIN;
select plan(16);

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

select is((select paused from api.pause_queue('fresh')), true, 'pausing an unknown queue creates it paused');
select is((select paused from api.pause_queue('fresh')), true, 'pausing twice is harmless');
select is(pg_temp.error_of($$select api.pause_queue('bad name')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "queue"}'::jsonb, 'pause_queue refuses a bad name');
select throws_ok($$select api.resume_queue(null)$$, 'PT400', null, 'resume_queue refuses a null name');
select throws_ok($$select api.configure_queue('with space')$$, 'PT400', null, 'configure_queue refuses a bad name');

select results_eq(
  $$select concurrency_limit, lease_seconds, max_attempts, backoff_base_seconds, backoff_max_seconds, backoff_jitter
      from api.configure_queue('conf', concurrency_limit => 3, lease_seconds => 120, max_attempts => 7,
                               backoff_base_seconds => 0.5, backoff_max_seconds => 10, backoff_jitter => 0)$$,
  $$values (3, 120, 7, 0.5::double precision, 10::double precision, 0::double precision)$$,
  'configure_queue sets every setting');
select results_eq($$select concurrency_limit, lease_seconds, max_attempts from api.configure_queue('conf', lease_seconds => 60)$$,
  $$values (3, 60, 7)$$, 'null arguments keep the other settings');

select is(pg_temp.error_of($$select api.configure_queue('conf', concurrency_limit => -1)$$) ->> 'field', 'concurrency_limit',
  'a negative concurrency_limit is refused');
select throws_ok($$select api.configure_queue('conf', concurrency_limit => 100001)$$, 'PT400', null, 'concurrency_limit over 100000 is refused');
select is(pg_temp.error_of($$select api.configure_queue('conf', lease_seconds => 0)$$) ->> 'field', 'lease_seconds',
  'lease_seconds 0 is refused');
select is(pg_temp.error_of($$select api.configure_queue('conf', max_attempts => 1001)$$) ->> 'field', 'max_attempts',
  'max_attempts 1001 is refused');
select is(pg_temp.error_of($$select api.configure_queue('conf', backoff_jitter => 1.5)$$) ->> 'field', 'backoff_jitter',
  'a jitter over 1 is refused');
select is(pg_temp.error_of($$select api.configure_queue('conf', backoff_base_seconds => 0)$$) ->> 'field', 'backoff_base_seconds',
  'a zero backoff base is refused');
select throws_ok($$select api.configure_queue('conf', backoff_base_seconds => 20)$$, 'PT400', null,
  'a base above the current max (10) is refused');
select throws_ok($$select api.configure_queue('conf', backoff_max_seconds => 604801)$$, 'PT400', null,
  'a max over a week is refused');
select results_eq($$select lease_seconds, max_attempts, backoff_base_seconds from collab.queues where name = 'conf'$$,
  $$values (60, 7, 0.5::double precision)$$, 'the refused calls changed nothing');

select * from finish();
ROLLBACK;
