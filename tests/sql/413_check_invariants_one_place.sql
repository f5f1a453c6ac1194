-- collab.check_invariants() proves that each job lives in exactly one place (collab.jobs while
-- live, collab.job_history once finished) and that idempotency keys and keyed jobs name each
-- other; each hand-made corruption below is reported by name.
BEGIN;
select plan(7);

create temp table w as select api.register_executor('doctor-one', array['one']) as id;
create temp table j as
  select * from api.enqueue_batch('[{"queue": "one", "type": "t", "idempotency_key": "one-1"},
                                    {"queue": "one", "type": "t", "idempotency_key": "one-2"},
                                    {"queue": "one", "type": "t", "idempotency_key": "one-3"}]');
create temp table c as select * from api.claim((select id from w), array['one'], 3, 60);
select api.complete(id, lease_token) from c where id = (select min(id) from j);
select is((select count(*)::integer from collab.check_invariants()), 0, 'a healthy start');

-- The finished job copied back into the hot table (triggers off: no event, no check).
alter table collab.jobs disable trigger user;
insert into collab.jobs overriding system value
select id, workspace_id, queue, type, payload, priority, 'queued', 'requeued', run_at, attempt,
       max_attempts + 1, idempotency_key, executor_id, lease_token, lease_seconds, null, false, progress,
       progress_message, result, last_error, created_at, claimed_at, null
  from collab.job_history where id = (select min(id) from j);
alter table collab.jobs enable trigger user;
select results_eq($$select invariant, job_id from collab.check_invariants() where invariant = 'job_in_two_places'$$,
  $$select 'job_in_two_places'::text, (select min(id) from j)$$,
  'a job in both collab.jobs and collab.job_history is reported');
select is((select count(*)::integer from collab.check_invariants() where invariant = 'duplicate_idempotency_key'), 1,
  'and so is its key, held by two rows');
delete from collab.jobs where id = (select min(id) from j);

-- A key whose job does not exist, and a keyed job without its key.
insert into collab.idempotency_keys (workspace_id, key, job_id, created_at)
values (collab.default_workspace_id(), 'ghost', 999999999, now());
select results_eq($$select job_id, detail from collab.check_invariants() where invariant = 'idempotency_key_without_job'$$,
  $$values (999999999::bigint, '{"idempotency_key": "ghost"}'::jsonb)$$,
  'a key naming no stored job is reported');
delete from collab.idempotency_keys where key = 'one-2';
select results_eq($$select job_id from collab.check_invariants() where invariant = 'idempotency_key_missing'$$,
  $$select id from j where idempotency_key = 'one-2'$$,
  'a keyed job whose key row is gone is reported');
delete from collab.idempotency_keys where key = 'ghost';
insert into collab.idempotency_keys (workspace_id, key, job_id, created_at)
select workspace_id, idempotency_key, id, now() from collab.jobs where idempotency_key = 'one-2';
select is((select count(*)::integer from collab.check_invariants()), 0, 'repaired, nothing is reported');

-- A finished job left in the hot table (as during revision 0009's backlog move, before its
-- CHECK is validated).
alter table collab.jobs drop constraint jobs_not_finished;
alter table collab.jobs disable trigger user;
update collab.jobs set status = 'succeeded', last_event = 'succeeded', lease_expires_at = null, finished_at = now()
 where id = (select max(id) from j);
alter table collab.jobs enable trigger user;
select results_eq($$select job_id, detail from collab.check_invariants() where invariant = 'finished_job_in_hot_table'$$,
  $$select max(id), '{"status": "succeeded"}'::jsonb from j$$,
  'a finished job in collab.jobs is reported');

select * from finish();
ROLLBACK;
