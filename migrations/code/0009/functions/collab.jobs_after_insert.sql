-- Statement-level: one event per inserted job, in the same transaction: `enqueued` for a new
-- job, `requeued` for a dead job api.requeue moved back from collab.job_history; and per
-- workspace one worker wake-up naming its queues (collab.notify_jobs) and one stream wake-up
-- (collab.notify_events). Idempotent duplicates insert nothing, so get no event.
create or replace function collab.jobs_after_insert()
returns trigger
language plpgsql
as $$
begin
  if exists (select 1 from new_jobs n
              where n.status <> 'queued' or n.last_event not in ('enqueued', 'requeued')) then
    perform collab.raise_error('PT409', 'illegal_transition',
      'a new job must start queued with the enqueued event', 'status');
  end if;
  insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, executor_id, data, created_at)
  select n.workspace_id, n.id, n.last_event, n.queue, n.type, n.attempt,
         case when n.last_event = 'requeued' then n.executor_id end,
         case when n.last_event = 'requeued' then jsonb_build_object('run_at', n.run_at)
              else jsonb_build_object('priority', n.priority, 'run_at', n.run_at) end,
         case when n.last_event = 'requeued' then collab.clock() else n.created_at end
    from new_jobs n
   order by n.id;
  perform collab.notify_jobs(w.workspace_id, w.queues), collab.notify_events(w.workspace_id)
     from (select n.workspace_id, array_agg(distinct n.queue order by n.queue) as queues
             from new_jobs n group by n.workspace_id) w;
  return null;
end
$$;
comment on function collab.jobs_after_insert() is
  'Trigger: writes the enqueued event of each new job (requeued for a job moved back from the history) and, per workspace, wakes its workers (collab.notify_jobs) and its stream subscribers (collab.notify_events).';
