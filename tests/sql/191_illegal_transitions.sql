-- The state machine holds whoever writes: a direct UPDATE (or INSERT) that makes an illegal
-- transition is refused by the database, and changes nothing: PT409 illegal_transition from
-- the triggers of collab.jobs, 23514 from the CHECK constraints that keep finished jobs in
-- collab.job_history (and only there).
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

-- Finished jobs live in collab.job_history, whose rows are finished by CHECK
-- (job_history_terminal): no UPDATE there brings one back to life.
select throws_ok($$update collab.job_history set status = 'running', last_event = 'claimed'
                    where id = (select id from job where name = 'done')$$,
  '23514', null, 'succeeded -> running in the history is refused by its CHECK');
-- Back into the hot table only as a requeued (queued) job: inserted running, PT409.
select is(pg_temp.error_of($$insert into collab.jobs overriding system value
                              select id, workspace_id, queue, type, payload, priority, 'running', 'claimed', run_at,
                                     attempt, max_attempts, idempotency_key, executor_id, lease_token, lease_seconds,
                                     now() + interval '1 minute', cancel_requested, progress, progress_message, result,
                                     last_error, created_at, claimed_at, null
                                from collab.job_history where id = (select id from job where name = 'done')$$),
  jsonb_build_object('sqlstate', 'PT409', 'reason', 'illegal_transition', 'field', 'status'),
  'succeeded -> running through an INSERT into collab.jobs is PT409 illegal_transition');
-- A row of the hot table is never finished in place (CHECK jobs_not_finished): finishing is
-- a move, whose DELETE takes the row only from its source state.
select throws_ok($$update collab.jobs set status = 'succeeded', last_event = 'succeeded', finished_at = now()
                    where id = (select id from job where name = 'queued')$$,
  '23514', null, 'queued -> succeeded (never claimed) in place is refused by the state CHECK constraints');
select throws_ok($$update collab.job_history set status = 'queued', last_event = 'requeued', finished_at = now()
                    where id = (select id from job where name = 'cancelled')$$,
  '23514', null, 'cancelled -> queued is refused: only dead jobs are requeued (by api.requeue)');
select throws_ok($$update collab.job_history set status = 'running', last_event = 'claimed',
                          executor_id = (select id from worker), lease_token = gen_random_uuid()
                    where id = (select id from job where name = 'dead')$$,
  '23514', null, 'dead -> running is refused');
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
select throws_ok($$insert into collab.jobs (workspace_id, queue, type, status, last_event, run_at, max_attempts, created_at,
                                           finished_at)
                   values (collab.default_workspace_id(), 'ill', 't', 'succeeded', 'succeeded', now(), 5, now(), now())$$,
  '23514', null, 'nor inserted already finished: a finished job belongs to the history');
select results_eq($$select j.status::text from tests.all_jobs j join job using (id) order by job.name$$,
  $$values ('cancelled'), ('dead'), ('succeeded'), ('queued'), ('running')$$,
  'after all the refusals every job is as it was');
select is((select count(*) from collab.job_events where job_id in (select id from job)), 11::bigint,
  'and no event was added (5 enqueued, 3 claimed, succeeded, dead, cancelled: 11)');

select * from finish();
ROLLBACK;
