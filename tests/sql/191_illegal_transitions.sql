-- The state machine holds whoever writes: a direct UPDATE (or INSERT) that makes an illegal
-- transition is refused by the database with PT409 illegal_transition, and changes nothing.
BEGIN;
select plan(11);

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

create temp table worker as select api.register_executor('worker-1', array['ill']) as id;
create temp table job as
  select 'done' as name, (api.enqueue('ill', 't')).id
  union all select 'dead', (api.enqueue('ill', 't')).id
  union all select 'queued', (api.enqueue('ill', 't', run_at => now() + interval '1 hour')).id
  union all select 'cancelled', (api.enqueue('ill', 't', run_at => now() + interval '1 hour')).id
  union all select 'running', (api.enqueue('ill', 't', priority => -1)).id;
create temp table claimed as select * from api.claim((select id from worker), array['ill'], 3);
select api.complete(id, lease_token) from claimed where id = (select id from job where name = 'done');
select api.fail(id, lease_token, retryable => false) from claimed where id = (select id from job where name = 'dead');
select api.cancel((select id from job where name = 'cancelled'));

select is(pg_temp.error_of($$update collab.jobs set status = 'running', last_event = 'claimed', finished_at = null,
                                   lease_expires_at = now() + interval '1 minute'
                              where id = (select id from job where name = 'done')$$),
  jsonb_build_object('sqlstate', 'PT409', 'reason', 'illegal_transition', 'field', 'status',
                     'job_id', (select id from job where name = 'done'), 'from', 'succeeded', 'to', 'running', 'event', 'claimed'),
  'succeeded -> running is PT409 illegal_transition naming the job and the change');
select throws_ok($$update collab.jobs set status = 'running', last_event = 'claimed' where id = (select id from job where name = 'done')$$,
  null, null, 'the brief''s bare succeeded -> running UPDATE is refused');
-- The bare UPDATE breaks the CHECK jobs_finished_iff_terminal before the trigger runs: it is
-- refused all the same (23514; only a DBA can issue it, clients reach the table through api).
select throws_ok($$update collab.jobs set status = 'running', last_event = 'claimed' where id = (select id from job where name = 'done')$$,
  '23514', null, 'the bare succeeded -> running UPDATE is refused by the state CHECK constraints');
select throws_ok($$update collab.jobs set status = 'succeeded', last_event = 'succeeded', finished_at = now()
                    where id = (select id from job where name = 'queued')$$,
  'PT409', null, 'queued -> succeeded (never claimed) is refused');
select throws_ok($$update collab.jobs set status = 'queued', last_event = 'requeued', finished_at = null
                    where id = (select id from job where name = 'cancelled')$$,
  'PT409', null, 'cancelled -> queued is refused: only dead jobs are requeued');
select throws_ok($$update collab.jobs set status = 'running', last_event = 'claimed', finished_at = null,
                          lease_expires_at = now() + interval '1 minute', executor_id = (select id from worker), lease_token = gen_random_uuid()
                    where id = (select id from job where name = 'dead')$$,
  'PT409', null, 'dead -> running is refused');
select throws_ok($$update collab.jobs set status = 'queued', last_event = 'claimed', lease_expires_at = null
                    where id = (select id from job where name = 'running')$$,
  'PT409', null, 'running -> queued with the wrong event (claimed) is refused');
select throws_ok($$update collab.jobs set attempt = attempt + 1, last_event = 'succeeded'
                    where id = (select id from job where name = 'running')$$,
  'PT409', null, 'running -> running with a succeeded event is refused');
select throws_ok($$insert into collab.jobs (workspace_id, queue, type, status, last_event, run_at, max_attempts, created_at,
                                           executor_id, lease_token, lease_expires_at, attempt)
                   values (collab.default_workspace_id(), 'ill', 't', 'running', 'claimed', now(), 5, now(),
                           (select id from worker), gen_random_uuid(), now(), 1)$$,
  'PT409', null, 'a job cannot be inserted already running');
select results_eq($$select j.status::text from collab.jobs j join job using (id) order by job.name$$,
  $$values ('cancelled'), ('dead'), ('succeeded'), ('queued'), ('running')$$,
  'after all the refusals every job is as it was');
select is((select count(*) from collab.job_events where job_id in (select id from job)), 11::bigint,
  'and no event was added (5 enqueued, 3 claimed, succeeded, dead, cancelled: 11)');

select * from finish();
ROLLBACK;
