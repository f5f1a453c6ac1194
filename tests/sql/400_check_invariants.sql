-- collab.check_invariants() is empty after a normal life of jobs, and names each violation
-- that a hand-made corruption introduces.
BEGIN;
select plan(10);

create temp table w as select api.register_executor('doctor-w', array['inv']) as id;
select api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'inv', 'type', 't')) from generate_series(1, 6)));
create temp table c as select * from api.claim((select id from w), null, 4);
select api.complete(id, lease_token, '{}') from c order by id limit 1;
select api.fail(id, lease_token, '{}', false) from (select * from c order by id offset 1 limit 1) x;
select api.cancel((select min(id) from tests.all_jobs where queue = 'inv' and status = 'queued'));

select is((select count(*) from collab.check_invariants()), 0::bigint,
  'a normal life of jobs (claims, a success, a dead job, a cancel) leaves no violation');
select is((select count(*) from api.check_invariants()), 0::bigint, 'api.check_invariants agrees');

-- Artifacts left by a running job and by a finished one: an artifact_created event last changes
-- no state (revision 0038; a random seed of make fuzz found both reported).
select api.put_artifact('out.txt', encode('running', 'base64'), 'text/plain', (select id from c order by id offset 2 limit 1));
select api.put_artifact('late.txt', encode('finished', 'base64'), 'text/plain', (select id from c order by id limit 1));
select is((select count(*) from collab.job_events e
            where e.job_id in (select id from c order by id limit 3) and e.type = 'artifact_created'), 2::bigint,
  'two artifact_created events, each the last of its job');
select is((select count(*) from collab.check_invariants()), 0::bigint,
  'an artifact_created event last leaves no violation, on a running job or a succeeded one');

insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, created_at)
values (collab.default_workspace_id(), 999999999, 'enqueued', 'inv', 't', 0, now());
select is((select job_id from collab.check_invariants() where invariant = 'event_without_job'), 999999999::bigint,
  'an event whose job does not exist is reported');

update collab.jobs set lease_token = (select lease_token from c order by id offset 2 limit 1)
 where id = (select id from c order by id offset 3 limit 1);
select is((select count(*) from collab.check_invariants() where invariant = 'lease_token_reused'), 1::bigint,
  'two jobs sharing a lease token are reported');

insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, created_at)
select workspace_id, id, 'dead', queue, type, attempt, now() from collab.jobs
 where id = (select max(id) from collab.jobs where queue = 'inv' and status = 'queued');
select is((select count(*) from collab.check_invariants() where invariant = 'state_disagrees_with_last_event'), 1::bigint,
  'a queued job whose last event says dead is reported');

delete from collab.job_events where job_id = (select min(id) from tests.all_jobs where queue = 'inv' and status = 'cancelled');
select is((select count(*) from collab.check_invariants() where invariant = 'job_without_events'), 1::bigint,
  'a job without any event is reported');

delete from collab.executors where id = (select id from w);
select is((select count(*) from collab.check_invariants() where invariant = 'running_without_owner'), 2::bigint,
  'running jobs whose executor no longer exists are reported');

select throws_ok($$set local role authenticated; select * from api.check_invariants()$$, '42501', null,
  'only the service role may run the health check');

select * from finish();
ROLLBACK;
