-- api.claim refuses bad arguments with PT400 and an unknown executor with PT404, and then
-- claims nothing. Every queue name given in the call is checked: an invalid one is refused
-- whether or not a queue row carries it (a shortcut that skipped the check for names of
-- existing queues must keep this).
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

create temp table worker as select api.register_executor('worker-1', array['work']) as id;
create temp table idle as select api.register_executor('worker-idle') as id;
select api.enqueue('work', 'a');

select throws_ok($$select api.claim((select id from worker), array['work'], 0)$$, 'PT400', null, 'max_jobs 0 is refused');
select throws_ok($$select api.claim((select id from worker), array['work'], 1001)$$, 'PT400', null, 'max_jobs 1001 is refused');
select throws_ok($$select api.claim((select id from worker), array['work'], null)$$, 'PT400', null, 'a null max_jobs is refused');
select is(pg_temp.error_of($$select api.claim((select id from worker), array['work'], 0)$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "max_jobs"}'::jsonb, 'the DETAIL names field max_jobs');
select throws_ok($$select api.claim((select id from worker), array['work'], 1, 0)$$, 'PT400', null, 'lease_seconds 0 is refused');
select is(pg_temp.error_of($$select api.claim((select id from worker), array['work'], 1, 86401)$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "lease_seconds"}'::jsonb, 'lease_seconds 86401 is refused');
select is(pg_temp.error_of($$select api.claim((select id from idle))$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "queues"}'::jsonb,
  'an executor registered without queues must name them');
select throws_ok($$select api.claim(gen_random_uuid(), array['work'])$$, 'PT404', null, 'an unknown executor is PT404');
select is(pg_temp.error_of($$select api.claim(gen_random_uuid(), array['work'])$$) ->> 'reason', 'executor_not_found',
  'the DETAIL says executor_not_found');
select is(pg_temp.error_of($$select api.claim(null, array['work'])$$) ->> 'field', 'executor_id', 'a null executor is PT400 on executor_id');

select is(pg_temp.error_of($$select api.claim((select id from worker), array['work', 'no such/queue'])$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "queues"}'::jsonb,
  'an invalid name beside a queue is refused');
-- A queue row whose name is not valid, written around api.configure_queue and api.enqueue.
insert into collab.queues (workspace_id, name)
values (collab.current_workspace(), 'bad name'), (collab.current_workspace(), 'other');
select is(pg_temp.error_of($$select api.claim((select id from worker), array['bad name'])$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "queues"}'::jsonb,
  'an invalid name is refused even when a queue row carries it');
select is(pg_temp.error_of($$select api.claim((select id from worker), array['other', 'other', 'not-yet'])$$),
  null, 'valid names, repeated or not queues yet, are accepted');

select is((select count(*) from tests.all_jobs where queue = 'work' and status = 'queued'), 1::bigint, 'nothing was claimed');

select * from finish();
ROLLBACK;
