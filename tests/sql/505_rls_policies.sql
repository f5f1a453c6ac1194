-- Row level security is the second wall: nothing in collab is granted to authenticated, but
-- if a grant is ever made (Supabase Realtime on job_events, say) a user sees only the rows of
-- their workspaces and writes nothing. The grants below live only in this rolled-back test.
BEGIN;
select plan(16);
select tests.tenancy_fixture();
select tests.rls_enabled('collab');
grant usage on schema collab to authenticated;
grant select, insert, update, delete on all tables in schema collab to authenticated;

select tests.authenticate_as(tests.id('outsider'));
select is((select count(*)::integer from collab.jobs where workspace_id <> tests.id('workspace_b')), 0,
          'jobs: only the rows of the user''s workspace');
select is((select count(*)::integer from collab.job_history where workspace_id <> tests.id('workspace_b')), 0,
          'job_history (finished jobs): only the rows of the user''s workspace');
select is((select count(*)::integer from tests.all_jobs), 3, 'and all of those, live and finished');
select is((select count(*)::integer from collab.idempotency_keys), 0,
          'idempotency_keys: no policy, no row (only enqueue reads them)');
select is((select count(*)::integer from collab.job_events where workspace_id <> tests.id('workspace_b')), 0, 'job_events: only theirs');
select ok((select count(*) from collab.job_events) > 0, 'and they are visible (what Realtime needs)');
select is((select array_agg(name) from collab.executors), array['exec-b'], 'executors: only theirs');
select is((select count(*)::integer from collab.queues where workspace_id <> tests.id('workspace_b')), 0, 'queues: only theirs');
select is((select array_agg(name) from collab.workspaces), array['tenant-b'], 'workspaces: only theirs');
select is((select array_agg(user_id) from collab.members), array[tests.id('outsider')], 'members: only their own memberships');
select throws_ok($$insert into collab.jobs (workspace_id, queue, type, run_at, max_attempts, created_at)
                   values (tests.id('workspace_b'), 'q', 't', now(), 1, now())$$,
                 '42501', null, 'no policy lets a user write a job directly');
select throws_ok('update collab.jobs set priority = 7', '42501', null,
                 'an update through the table is refused');

select tests.authenticate_as('77777777-7777-7777-7777-777777777777');
select is((select count(*)::integer from tests.all_jobs), 0, 'a user of no workspace sees no job');
select is((select count(*)::integer from collab.job_events), 0, 'and no event');

reset role;
select is((select count(*)::integer from collab.jobs where priority = 7), 0,
          'an update through the table touched no row (no update policy)');

select * from finish();
ROLLBACK;
