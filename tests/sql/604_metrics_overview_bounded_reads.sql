-- api.metrics_overview reads the queued and running jobs (collab.jobs) and the dead ones
-- (the history's partial index), and never the workspace's succeeded ones: with 3,000
-- succeeded jobs beside 4 queued and 2 dead, and generic plans, a call reads fewer index
-- entries than there are finished jobs. A plan that counts jobs by status over the whole workspace (a scan of
-- (workspace_id, ...) with a status filter) would read all 3,006.
-- The jobs live in a workspace of their own, fresh in every run: the index entries other test
-- files left behind (rolled back, not yet vacuumed) are under other workspace ids, so they are
-- neither read nor counted.
BEGIN;
select plan(4);

create temp table w as select gen_random_uuid() as id;
insert into collab.workspaces (id, name) select id, 'probe-' || id from w;

create function pg_temp.side_reads_of(statement text) returns bigint language plpgsql as $$
declare
  before bigint := tests.side_reads();
begin
  execute statement;
  return tests.side_reads() - before;
end
$$;

-- Finished jobs live in the history; written straight into its default partition, they get
-- no event (none is needed here; all of it is rolled back).
insert into collab.job_history_default (id, workspace_id, queue, type, payload, priority, status, last_event,
                                       run_at, attempt, max_attempts, lease_token, cancel_requested,
                                       created_at, claimed_at, finished_at)
select nextval('collab.jobs_id_seq'), (select id from w), 'q' || (g % 4), 'probe', '{}', 0,
       case when g <= 2 then 'dead' else 'succeeded' end::collab.job_status,
       case when g <= 2 then 'dead' else 'succeeded' end::collab.job_event_type,
       now() - interval '1 day', 1, 1, gen_random_uuid(), false, now() - interval '1 day',
       now() - interval '1 day', now() - interval '1 day'
  from generate_series(1, 3002) g;
alter table collab.jobs disable trigger user;  -- no events needed for plans; rolled back
insert into collab.jobs (workspace_id, queue, type, run_at, max_attempts, created_at)
select (select id from w), 'q' || g, 'probe', now(), 1, now() from generate_series(0, 3) g;
insert into collab.queues (workspace_id, name)
select (select id from w), 'q' || g from generate_series(0, 3) g on conflict do nothing;
alter table collab.jobs enable trigger user;
analyze collab.jobs;
analyze collab.job_history;
-- a superuser session naming a workspace acts there
select set_config('request.jwt.claims', jsonb_build_object('workspace_id', (select id from w))::text, true);

set local plan_cache_mode = force_generic_plan;
-- Six calls first, so that plpgsql switches to its generic plans.
select api.metrics_overview() from generate_series(1, 6);

create temp table o as select api.metrics_overview() as doc;
select is((select (doc ->> 'dlq_size')::integer from o), 2, 'the DLQ size counts the dead jobs');
select is((select sum((q ->> 'depth')::integer)::integer from o, jsonb_array_elements(doc -> 'queues') q), 4,
          'the depths count the queued jobs');
select cmp_ok(pg_temp.side_reads_of($$select api.metrics_overview()$$), '<', 100::bigint,
              'a call reads the queued, running and dead entries only, not the 3,000 finished jobs');
select cmp_ok(pg_temp.side_reads_of($$select api.metrics_overview(1440)$$), '<', 100::bigint,
              'whatever its window');

select * from finish();
ROLLBACK;
