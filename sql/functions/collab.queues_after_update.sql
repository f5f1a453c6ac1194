-- Statement-level, after an update of collab.queues: a queue that was resumed, or whose
-- concurrency limit was raised or removed, may have jobs that could not be claimed a moment
-- ago and can be now; nothing else would wake the workers for them (their enqueue's wake-up
-- is long past), so they started at the workers' next poll. Per workspace, one wake-up
-- (collab.notify_jobs) naming those of such queues that hold a job due now, sent at the
-- commit. Any writer: api.resume_queue, api.configure_queue, or a DBA's UPDATE.
create or replace function collab.queues_after_update()
returns trigger
language plpgsql
as $$
begin
  perform collab.notify_jobs(w.workspace_id, w.queues)
     from (select n.workspace_id, array_agg(n.name order by n.name) as queues
             from old_queues o join new_queues n using (workspace_id, name)
            where not n.paused
              and (o.paused or coalesce(n.concurrency_limit, 2147483647) > coalesce(o.concurrency_limit, 2147483647))
              and exists (select 1 from collab.jobs j
                           where j.workspace_id = n.workspace_id and j.queue = n.name
                             and j.status = 'queued' and j.run_at <= collab.clock())
            group by n.workspace_id) w;
  return null;
end
$$;
comment on function collab.queues_after_update() is
  'Trigger: wakes the workers (collab.notify_jobs) of queues that were resumed or whose concurrency limit was raised or removed, when they hold jobs due now.';
