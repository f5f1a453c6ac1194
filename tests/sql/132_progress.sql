-- progress records a value (0-100) and a message on a running job with one `progress`
-- event, fenced by the lease token like complete.
BEGIN;
select plan(9);

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
select api.enqueue('work', 'a');
create temp table one as select * from api.claim((select id from worker), array['work'], 1);

select is(pg_temp.error_of($$select api.progress((select id from one), (select lease_token from one), 40, 'downloading')$$),
  null, 'progress with the current token is accepted');
select is((select progress from tests.all_jobs where id = (select id from one)), 40::numeric, 'the value is recorded');
select results_eq(
  $$select type::text, data from collab.job_events where job_id = (select id from one) and type = 'progress'$$,
  $$values ('progress', '{"progress": 40, "message": "downloading"}'::jsonb)$$,
  'one progress event carries value and message');
select is(pg_temp.error_of($$select api.progress((select id from one), (select lease_token from one), 101)$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "progress"}'::jsonb, 'progress above 100 is refused');
select is(pg_temp.error_of($$select api.progress((select id from one), (select lease_token from one), -1)$$) ->> 'sqlstate',
  'PT400', 'progress below 0 is refused');
select is(pg_temp.error_of($$select api.progress((select id from one), (select lease_token from one), 1, repeat('m', 2001))$$) ->> 'field',
  'message', 'a message over 2000 characters is refused');
select is(pg_temp.error_of($$select api.progress((select id from one), gen_random_uuid(), 50)$$) ->> 'reason',
  'lease_lost', 'a wrong token is PT409 lease_lost');
select is(pg_temp.error_of($$select api.progress(-1, gen_random_uuid(), 50)$$) ->> 'reason',
  'job_not_found', 'an unknown job is PT404 job_not_found');

select is((select status from tests.all_jobs where id = (select id from one)), 'running'::collab.job_status,
  'the job is still running');

select * from finish();
ROLLBACK;
