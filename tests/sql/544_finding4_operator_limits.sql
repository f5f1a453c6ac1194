-- Security review finding 4: the operator bounds every tenant. result and error are capped by
-- the workspace's max_payload_bytes like payloads (PT400 invalid_input naming the field); the
-- service role sets limits no admin can raise (api.configure_limits): the max_payload_bytes
-- ceiling, queues, executors and stored jobs per workspace, workspaces per user, each PT429
-- quota_exceeded {quota, limit} beyond it (stored jobs from the reaper's counts, off the hot
-- path). list_queues pages, metrics_summary is bounded.
BEGIN;
select plan(45);
select tests.tenancy_fixture();

-- 1. result and error are capped like payloads.
select tests.authenticate_as(tests.id('admin'));
select api.configure_workspace(max_payload_bytes => 100);
select tests.authenticate_as(tests.id('executor'));
select is(tests.outcome(format($$select api.complete(%s, '%s', jsonb_build_object('x', repeat('a', 200)))$$,
                               tests.job('a', 'running'), tests.token('a', 'running'))) - 'sqlstate',
          '{"reason": "invalid_input", "field": "result"}'::jsonb,
          'a result over max_payload_bytes is refused, naming result');
select is(tests.outcome(format($$select api.complete_batch(jsonb_build_array(jsonb_build_object(
                                   'job_id', %s, 'lease_token', '%s', 'result', repeat('a', 200))))$$,
                               tests.job('a', 'running'), tests.token('a', 'running'))) - 'sqlstate',
          '{"reason": "invalid_input", "field": "result", "index": 0}'::jsonb,
          'in complete_batch too, naming the item');
select is(tests.outcome(format($$select api.fail(%s, '%s', jsonb_build_object('x', repeat('a', 200)))$$,
                               tests.job('a', 'running'), tests.token('a', 'running'))) - 'sqlstate',
          '{"reason": "invalid_input", "field": "error"}'::jsonb,
          'an error over max_payload_bytes is refused, naming error');
select is(api.get_job(tests.job('a', 'running')) ->> 'status', 'running',
          'the refused calls changed nothing');
select is((api.complete(tests.job('a', 'running'), tests.token('a', 'running'), '{"ok": true}')).status::text,
          'succeeded', 'a small result completes');

-- 2. The payload ceiling: an admin may not raise max_payload_bytes above the operator's.
reset role;
select tests.authenticate_as_service_role();
select is(api.configure_limits(payload_ceiling_bytes => 4096) ->> 'payload_ceiling_bytes', '4096',
          'the service role sets the platform payload ceiling');
reset role;
select tests.authenticate_as(tests.id('admin'));
select is(tests.outcome($$select api.configure_workspace(max_payload_bytes => 104857600)$$),
          '{"sqlstate": "PT429", "reason": "quota_exceeded", "field": "max_payload_bytes", "quota": "payload_ceiling_bytes", "limit": 4096}'::jsonb,
          'an admin cannot set 100 MiB any more');
select is(api.configure_workspace(max_payload_bytes => 4096) ->> 'max_payload_bytes', '4096', 'up to the ceiling is fine');
reset role;
select tests.authenticate_as_service_role();
select is(api.configure_limits(workspace_id => tests.id('workspace_a'), payload_ceiling_bytes => 1000)
            ->> 'max_payload_bytes', '1000',
          'a lower ceiling for one workspace lowers its max_payload_bytes with it');
select is(api.configure_limits(payload_ceiling_bytes => 104857600) ->> 'payload_ceiling_bytes', '104857600',
          'back to the default ceiling');

-- 3. Queues per workspace (A has one, q).
select is(api.configure_limits(workspace_id => tests.id('workspace_a'), queues => 2) ->> 'queues', '2',
          'an override of the queue limit for workspace A');
reset role;
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.enqueue('q2', 't')$$) ->> 'sqlstate', 'ok', 'a second queue is created');
select is(tests.outcome($$select api.enqueue('q3', 't')$$) - 'sqlstate',
          '{"reason": "quota_exceeded", "field": "queue", "quota": "queues", "limit": 2}'::jsonb,
          'a third is PT429 quota_exceeded');
select is(tests.outcome($$select api.enqueue_batch('[{"queue": "q", "type": "t"}, {"queue": "q4", "type": "t"}]')$$) ->> 'quota',
          'queues', 'in a batch too');
select is(tests.outcome($$select api.enqueue('q', 't')$$) ->> 'sqlstate', 'ok', 'existing queues still take jobs');

-- 4. Executors per workspace (A has exec-a).
reset role;
select tests.authenticate_as_service_role();
select api.configure_limits(workspace_id => tests.id('workspace_a'), executors => 1);
reset role;
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.register_executor('second', array['q'])$$) - 'sqlstate',
          '{"reason": "quota_exceeded", "field": "name", "quota": "executors", "limit": 1}'::jsonb,
          'a second executor is PT429 quota_exceeded');
reset role;
select tests.authenticate_as(tests.id('executor'));
select is(tests.outcome($$select api.register_executor('exec-a', array['q'])$$) ->> 'sqlstate', 'ok',
          'registering an existing executor again is not a new one');

-- 5. Stored jobs per workspace, of any status, enforced from the reaper's counts (A stores 5:
-- the fixture's 3 and two above). No trigger counts jobs: an enqueue is refused only once a
-- count (collab.reap, api.configure_limits) has found the workspace at its limit.
reset role;
select tests.authenticate_as_service_role();
select is(api.configure_limits(workspace_id => tests.id('workspace_a'), stored_jobs => 6) ->> 'stored_jobs', '6',
          'at most 6 stored jobs in A');
select is((select (w.stored_jobs, w.stored_jobs_full) from collab.workspaces w where w.id = tests.id('workspace_a')),
          (5::bigint, false), 'configure_limits counts A at once: 5 stored, not full');
reset role;
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.enqueue('q', 't')$$) ->> 'sqlstate', 'ok', 'the sixth fits');
select is(tests.outcome($$select api.enqueue('q', 't')$$) ->> 'sqlstate', 'ok',
          'the seventh too: between two reaps a workspace can go over (the documented overshoot)');
reset role;
select collab.reap();
select is((select (w.stored_jobs, w.stored_jobs_full) from collab.workspaces w where w.id = tests.id('workspace_a')),
          (7::bigint, true), 'the reap counts 7 (up to the limit + 1) and marks A full');
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.enqueue('q', 't')$$),
          '{"sqlstate": "PT429", "reason": "quota_exceeded", "field": "jobs", "quota": "stored_jobs", "limit": 6, "stored": 7}'::jsonb,
          'now enqueue is PT429 quota_exceeded stored_jobs, though most jobs are queued or finished');
select is(tests.outcome($$select api.enqueue('q', 't', idempotency_key => 'k1')$$) ->> 'quota', 'stored_jobs',
          'through the batch path too (an idempotency key)');
select is(tests.outcome($$select api.enqueue_batch('[{"queue": "q", "type": "t"}]')$$) ->> 'quota', 'stored_jobs',
          'and enqueue_batch');
reset role;
select tests.authenticate_as(tests.id('admin'));
select is(api.purge_dead(), 1::bigint, 'the admin purges the dead job');
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.enqueue('q', 't')$$) ->> 'quota', 'stored_jobs',
          'still refused until the next reap counts (6 stored: at the limit)');
reset role;
select tests.authenticate_as_service_role();
select is(api.configure_limits(workspace_id => tests.id('workspace_a'), stored_jobs => 7) ->> 'stored_jobs', '7',
          'the operator raises A''s limit to 7');
reset role;
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.enqueue('q', 't')$$) ->> 'sqlstate', 'ok',
          'configure_limits recounted A at once: 6 of 7, accepted');
reset role;
select collab.reap();
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.enqueue('q', 't')$$) ->> 'quota', 'stored_jobs',
          'the reap finds 7 of 7: full again');
reset role;
delete from collab.jobs where id = (select max(j.id) from collab.jobs j where j.workspace_id = tests.id('workspace_a'));
select collab.reap();
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.enqueue('q', 't')$$) ->> 'sqlstate', 'ok',
          'once a job is gone, the next reap clears the flag and enqueue is accepted again');
select is((api.get_limits() -> 'usage') - 'stored_jobs_counted_at', '{"queues": 2, "executors": 1, "stored_jobs": 6}'::jsonb,
          'get_limits tells the usage, stored_jobs from the last count');
select ok((api.get_limits() -> 'usage' ->> 'stored_jobs_counted_at') is not null, 'and when it was counted');
reset role;
select is((select count(*) from collab.workspaces w where w.stored_jobs_counted_at is not null
              and w.id = tests.id('workspace_b')), 1::bigint,
          'a reap counts a workspace never counted before');

-- 6. Workspaces a user owns.
reset role;
select tests.authenticate_as_service_role();
select api.configure_limits(workspaces_per_user => 1);
reset role;
select tests.authenticate_as(tests.id('owner'));
select is(tests.outcome($$select api.create_workspace('second-of-owner')$$) - 'sqlstate',
          '{"reason": "quota_exceeded", "field": "name", "quota": "workspaces_per_user", "limit": 1}'::jsonb,
          'the owner of A may own no second workspace');
select tests.authenticate_as(tests.id('viewer'));
select is(api.create_workspace('first-of-viewer') ->> 'role', 'owner', 'a user who owns none creates one');

-- 7. Operator limits are not a tenant's to set.
select is(tests.outcome($$select api.configure_limits(queues => 100000)$$) ->> 'sqlstate', '42501',
          'a signed-in user cannot call configure_limits');
reset role;
select tests.authenticate_as_service_role();
select is(tests.outcome($$select api.configure_limits(queues => 0)$$) - 'sqlstate',
          '{"reason": "invalid_input", "field": "queues"}'::jsonb, 'a platform limit of 0 is invalid_input');

-- 8. list_queues pages by name.
reset role;
select tests.authenticate_as(tests.id('viewer'), jsonb_build_object('workspace_id', tests.id('workspace_a')));
select is(array(select (l.queue).name from api.list_queues("limit" => 1) l), array['q'], 'one queue per page');
select is(array(select (l.queue).name from api.list_queues("limit" => 1, after => 'q') l), array['q2'],
          'the next page after the last name seen');


-- 9. metrics_summary is bounded: 1,000 series and 1,000 queues at most, and says so.
select is(api.metrics_summary('all') ->> 'truncated', 'false', 'a small workspace is not truncated');
reset role;
select tests.authenticate_as(tests.id('outsider'));
select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'm' || i, 'type', 't'))
                                          from generate_series(1, 1001) i));
create temp table summary_b as select api.metrics_summary('all') as s;
select is((select jsonb_array_length(s -> 'by_queue_type') from summary_b), 1000, 'at most 1,000 queue/type series');
select is((select (select count(*) from jsonb_object_keys(s -> 'gauges' -> 'queues'))::integer from summary_b), 1000,
          'at most 1,000 queues in the gauges');
select is((select s ->> 'truncated' from summary_b), 'true', 'marked truncated');
select is((select s -> 'totals' -> 'counters' ->> 'enqueued' from summary_b), '1004',
          'the totals still count every series (the fixture''s 3 jobs and 1,001)');

select * from finish();
ROLLBACK;
