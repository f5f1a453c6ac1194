-- A finished job by workspace and id, from collab.job_history, reading one day partition.
-- The history key is (workspace_id, id, finished_at) and the table is partitioned by
-- finished_at, so a lookup by id alone probes the partitions in order (the days kept, the
-- week ahead, the default) until one holds the job, and all of them for an id that is not
-- there (docs/scaling.md). The job's last terminal event (succeeded, cancelled
-- or dead) is written by the move with the same collab.clock() as finished_at, and is found
-- by the (job_id, id) index of collab.job_events; its time names the one partition to read.
-- When the events are gone (collab.purge_events keeps them for less time than the history)
-- or the times differ (collab.clock_offset moved inside the transaction, which only tests
-- do), the partitions are probed in turn as before: the answer never depends on the hint.
-- All columns null when the workspace has no such finished job. The event and the row are
-- written by one transaction (the move, a requeue's delete with its `requeued` event), so a
-- snapshot sees both or neither: a job moving meanwhile is missed by the hint only when the
-- caller would not see it in the history either.
-- Generic plans only (plan_cache_mode): with the default, the session kept custom plans (the
-- generic plan of the partitioned read, pruned when it starts, looked dearer) and planned the
-- read at every call: 68-76 µs a call with 12 partitions, 139-152 µs with 189, against 13 and
-- 40-59 µs generic (in-server loops of 3,000 calls on bench/history_lookup.py's databases;
-- the lookup it replaces took 23 and 993-1,440 µs).
create or replace function collab.finished_job(workspace_id uuid, job_id bigint)
returns collab.job_history
language plpgsql
stable
set plan_cache_mode = force_generic_plan
as $$
declare
  at timestamptz;
  h collab.job_history;
begin
  select e.created_at into at from collab.job_events e
   where e.job_id = finished_job.job_id and e.workspace_id = finished_job.workspace_id
     and e.type in ('succeeded', 'cancelled', 'dead')
   order by e.id desc
   limit 1;
  if found then
    select x.* into h from collab.job_history x
     where x.workspace_id = finished_job.workspace_id and x.id = finished_job.job_id
       and x.finished_at = at;
    if found then
      return h;
    end if;
  end if;
  select x.* into h from collab.job_history x
   where x.workspace_id = finished_job.workspace_id and x.id = finished_job.job_id;
  return h;
end
$$;
comment on function collab.finished_job(uuid, bigint) is
  'The finished job (collab.job_history row) of the workspace with this id, read from the one partition its last terminal event names (the partitions in turn when that event is gone); all columns null when there is none.';
