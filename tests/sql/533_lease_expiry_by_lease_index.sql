-- The lease expiry of a claim reads only the expired leases of its own queues: with 400 jobs
-- running on another queue (statistics taken while none ran) and generic plans,
-- collab.expire_leases(ws, queues) reads no index entry (but the primary key's) for leases
-- that have not expired or belong to other queues. Written with queue = any(queues), the queue
-- was no index condition: the plan took jobs_running_executor_idx, or jobs_running_lease_idx
-- by workspace only, and read the leases of every queue (400 entries here).
BEGIN;
select plan(7);

create function pg_temp.side_reads_of(statement text) returns bigint language plpgsql as $$
declare
  before bigint := tests.side_reads();
begin
  execute statement;
  return tests.side_reads() - before;
end
$$;

select api.register_executor('lease-probe', array['busy', 'idle']) as ex \gset
select count(*) from api.enqueue_batch(
  (select jsonb_agg(jsonb_build_object('queue', 'busy', 'type', 'probe')) from generate_series(1, 400)));
select api.enqueue('idle', 'probe') is not null as idle_queue;
analyze collab.jobs;
create temp table held as select * from api.claim(:'ex', array['busy'], 400, 300);
select is((select count(*)::integer from held), 400, '400 jobs running on queue busy');

set local plan_cache_mode = force_generic_plan;
-- Six calls first, so that plpgsql switches to its generic plans.
select collab.expire_leases(collab.default_workspace_id(), array['idle', 'busy']) from generate_series(1, 6);

select is(pg_temp.side_reads_of($$select collab.expire_leases(collab.default_workspace_id(), array['idle'])$$), 0::bigint,
          'a queue with no running job: no entry read');
select is(pg_temp.side_reads_of($$select collab.expire_leases(collab.default_workspace_id(), array['idle', 'busy'])$$), 0::bigint,
          '400 running leases, none expired: no entry read');

update collab.jobs set lease_expires_at = collab.clock() - interval '1 second'
 where id in (select id from held);
select is(pg_temp.side_reads_of($$select collab.expire_leases(collab.default_workspace_id(), array['idle'])$$), 0::bigint,
          '400 expired leases on another queue: no entry read');
select is((select count(*)::integer from collab.jobs where status = 'running'), 400,
          'and none of them was released');
select is(pg_temp.side_reads_of($$select collab.expire_leases(collab.default_workspace_id(), array['idle', 'busy'], 1)$$), 1::bigint,
          'one lease asked for among 400 expired: one entry read (the release then goes by primary key)');
select is((select count(*)::integer from collab.jobs where status = 'queued' and attempt = 1), 1,
          'and that job was released for a retry');

select * from finish();
ROLLBACK;
