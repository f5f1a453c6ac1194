-- Security review finding 11: max_queued_jobs is a hard limit. Requeueing dead jobs counts
-- against it like enqueueing (it was skipped), and while a quota is set the check locks the
-- workspace row, so concurrent enqueuers count one after the other (the concurrency itself is
-- tested in tests/py/integration/test_finding11_queued_quota.py).
BEGIN;
select plan(7);
select tests.tenancy_fixture();

-- Workspace A: one queued job, one running, one dead.
select tests.authenticate_as(tests.id('admin'));
select is((api.configure_workspace(max_queued_jobs => 2)) ->> 'max_queued_jobs', '2', 'at most 2 queued jobs in A');
select is(tests.outcome($$select api.enqueue('q', 't')$$) ->> 'sqlstate', 'ok', 'a second queued job fits');
select is(tests.outcome(format('select api.requeue(array[%s]::bigint[])', tests.job('a', 'doomed'))),
          '{"sqlstate": "PT429", "reason": "quota_exceeded", "field": "jobs", "quota": "max_queued_jobs", "limit": 2, "queued": 2}'::jsonb,
          'requeueing a dead job beyond the quota is PT429 quota_exceeded');
select is(api.get_job(tests.job('a', 'doomed')) ->> 'status', 'dead', 'and nothing was requeued');
select api.cancel(tests.job('a', 'queued'));
select is(tests.outcome(format('select api.requeue(array[%s, %s]::bigint[])', tests.job('a', 'doomed'), tests.job('a', 'doomed'))) ->> 'sqlstate',
          'ok', 'once there is room it is requeued (an id named twice counts once)');
select is(tests.outcome($$select api.enqueue('q', 't')$$) ->> 'quota', 'max_queued_jobs', 'and the quota is full again');

reset role;
select is((select p.provolatile::text from pg_proc p where p.oid = 'collab.check_queued_quota(uuid, integer)'::regprocedure),
          'v', 'the check locks (volatile): it counts after the previous enqueuer of the workspace committed');

select * from finish();
ROLLBACK;
