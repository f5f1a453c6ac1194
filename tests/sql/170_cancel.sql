-- cancel: a queued job is cancelled at once; a running one is flagged cancel_requested (its
-- executor stops at the next heartbeat); a succeeded or dead job is PT409 not_cancellable.
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

create temp table worker as select api.register_executor('worker-1', array['c']) as id;
create temp table job as
  select 'running' as name, (api.enqueue('c', 't')).id
  union all select 'done', (api.enqueue('c', 't')).id
  union all select 'dead', (api.enqueue('c', 't')).id
  union all select 'queued', (api.enqueue('c', 't', run_at => now() + interval '1 hour')).id;
create temp table claimed as select * from api.claim((select id from worker), array['c'], 3);
select api.complete(c.id, c.lease_token) from claimed c where c.id = (select id from job where name = 'done');
select api.fail(c.id, c.lease_token, retryable => false) from claimed c where c.id = (select id from job where name = 'dead');

-- Queued.
create temp table cancelled as select * from api.cancel((select id from job where name = 'queued'));
select is((select status from cancelled), 'cancelled', 'a queued job is cancelled at once');
select is((select finished_at from cancelled), now(), 'and finished');
select is((select count(*) from collab.job_events where job_id = (select id from job where name = 'queued') and type = 'cancelled'), 1::bigint,
  'one cancelled event');
select is((select status from api.cancel((select id from job where name = 'queued'))), 'cancelled',
  'cancelling it again returns it unchanged');
select is((select count(*) from collab.job_events where job_id = (select id from job where name = 'queued')), 2::bigint,
  'and writes no event');

-- Running.
create temp table flagged as select * from api.cancel((select id from job where name = 'running'));
select is((select status from flagged), 'running', 'a running job keeps running');
select is((select cancel_requested from flagged), true, 'flagged cancel_requested');
select is((select count(*) from collab.job_events where job_id = (select id from job where name = 'running') and type = 'cancel_requested'), 1::bigint,
  'one cancel_requested event');
select is((select cancel_requested from api.cancel((select id from job where name = 'running'))), true,
  'a second cancel changes nothing');
select is((select count(*) from collab.job_events where job_id = (select id from job where name = 'running') and type = 'cancel_requested'), 1::bigint,
  'and writes no second event');
select is((select status from api.fail((select id from job where name = 'running'), (select lease_token from claimed where id = (select id from job where name = 'running')))),
  'cancelled', 'a failure of a job with a pending cancel cancels it');

-- Finished.
select is(pg_temp.error_of($$select api.cancel((select id from job where name = 'done'))$$),
  jsonb_build_object('sqlstate', 'PT409', 'reason', 'not_cancellable', 'field', 'job_id', 'status', 'succeeded'),
  'a succeeded job is PT409 not_cancellable');
select throws_ok($$select api.cancel((select id from job where name = 'dead'))$$, 'PT409', null, 'a dead job is not cancellable');
select throws_ok($$select api.cancel(-1)$$, 'PT404', null, 'an unknown job is PT404');

select * from finish();
ROLLBACK;
