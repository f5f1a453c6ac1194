-- An executor acts only as itself: another member of the same workspace, even holding the
-- executor's id and a job's lease token, cannot claim, heartbeat, complete, fail, report
-- progress or re-register under its name; nothing changes. Its own user can.
BEGIN;
select plan(11);
select tests.tenancy_fixture();
create temp table before as
  select id, status, lease_token, progress from tests.all_jobs where workspace_id = tests.id('workspace_a');
grant select on before to authenticated;

select tests.authenticate_as(tests.id('member'));
create temp table thief as select api.register_executor('thief', array['q']) as id;
select is(tests.outcome(format('select api.claim(%L, array[''q''])', tests.id('exec_a'))) - 'role',
          '{"sqlstate": "PT403", "reason": "forbidden", "field": "executor_id", "required_role": "executor"}'::jsonb,
          'claiming as another user''s executor: PT403 forbidden naming executor_id');
select is(tests.outcome(format('select api.heartbeat(%L)', tests.id('exec_a'))) ->> 'reason', 'forbidden',
          'heartbeating another user''s executor: forbidden');
select is(tests.outcome(format('select api.complete(%s, %L)', tests.job('a', 'running'), tests.token('a', 'running'))) ->> 'reason',
          'forbidden', 'completing a job held by another user''s executor, with its token: forbidden');
select is(tests.outcome(format('select api.fail(%s, %L)', tests.job('a', 'running'), tests.token('a', 'running'))) ->> 'reason',
          'forbidden', 'failing it: forbidden');
select is(tests.outcome(format('select api.progress(%s, %L, 99)', tests.job('a', 'running'), tests.token('a', 'running'))) ->> 'reason',
          'forbidden', 'reporting progress on it: forbidden');
select is(tests.outcome(format($$select api.complete_batch('[{"job_id": %s, "lease_token": "%s"}]')$$,
                               tests.job('a', 'running'), tests.token('a', 'running'))) ->> 'reason',
          'forbidden', 'completing it in a batch: forbidden');
select is(tests.outcome($$select api.register_executor('exec-a', array['other'])$$) ->> 'reason', 'forbidden',
          'registering under another user''s executor name: forbidden');
select is((select count(*)::integer from api.claim((select id from thief), array['q'], 10)), 1,
          'the member''s own executor claims the one queued job');

reset role;
select set_eq($$select id, status, lease_token, progress from tests.all_jobs
                 where workspace_id = tests.id('workspace_a') and type <> 'queued'$$,
              $$select id, status, lease_token, progress from before where status <> 'queued'$$,
              'the other executor''s jobs are unchanged');
select is((select queues from collab.executors where id = tests.id('exec_a')), array['q'], 'and its executor too');

select tests.authenticate_as(tests.id('executor'));
select is((api.complete(tests.job('a', 'running'), tests.token('a', 'running'))).status::text, 'succeeded',
          'the executor''s own user completes the job');

select * from finish();
ROLLBACK;
