-- A user of workspace B sees and touches nothing of workspace A through the api: lists,
-- events and metrics hold only B's rows, A's ids are not found and stay unchanged, and
-- naming workspace A in the token is refused.
BEGIN;
select plan(13);
select tests.tenancy_fixture();
create temp table a_jobs as select id, status from tests.all_jobs where workspace_id = tests.id('workspace_a');
create temp table b_job_ids as select id from tests.all_jobs where workspace_id = tests.id('workspace_b');
grant select on a_jobs, b_job_ids to authenticated;
-- events_since streams committed events only (below the snapshot's xmin): date the fixture's back
update collab.job_events set xid = '1';

select tests.authenticate_as(tests.id('outsider'));
select set_eq($$select (job).id from api.list_jobs("limit" => 100)$$, $$select id from b_job_ids$$,
              'list_jobs shows only the jobs of the caller''s workspace');
select set_eq($$select (queue).name, queued, running, dead from api.list_queues()$$, $$values ('q'::text, 1::bigint, 1::bigint, 1::bigint)$$,
              'list_queues counts only the caller''s jobs');
select set_eq($$select name from api.list_executors()$$, $$values ('exec-b')$$,
              'list_executors shows only the caller''s executors');
select is((select count(*)::integer from api.events_since("limit" => 1000) e where e.job_id not in (select id from b_job_ids)),
          0, 'events_since streams no event of another workspace');
select is((select count(*)::integer from api.events_since("limit" => 1000)) > 0, true, 'and does stream the caller''s own');
select is((api.metrics_summary('1 hour') -> 'gauges' ->> 'dlq_size')::integer, 1,
          'metrics_summary counts only the caller''s dead job');
select is(tests.outcome(format('select api.get_job(%s)', tests.job('a', 'queued'))) ->> 'reason', 'job_not_found',
          'get_job of another workspace''s job: job_not_found');
select is(tests.outcome(format('select api.cancel(%s)', tests.job('a', 'queued'))) ->> 'reason', 'job_not_found',
          'cancel of another workspace''s job: job_not_found');
select is(tests.outcome(format('select api.requeue(array[%s]::bigint[])', tests.job('a', 'doomed'))) ->> 'reason', 'job_not_found',
          'requeue of another workspace''s dead job: job_not_found');
select is(tests.outcome(format('select api.claim(%L, array[''q''])', tests.id('exec_a'))) ->> 'reason', 'executor_not_found',
          'claiming with another workspace''s executor: executor_not_found');
select is(api.purge_dead(), 1::bigint, 'purge_dead purges only the caller''s dead job');

select tests.authenticate_as(tests.id('outsider'), json_build_object('workspace_id', tests.id('workspace_a'))::jsonb);
select is(tests.outcome('select * from api.list_jobs()') ->> 'reason', 'workspace_forbidden',
          'naming workspace A in the token is refused: workspace_forbidden');

reset role;
select set_eq($$select id, status from tests.all_jobs where workspace_id = tests.id('workspace_a')$$,
              $$select id, status from a_jobs$$, 'workspace A''s jobs are all there, unchanged');

select * from finish();
ROLLBACK;
