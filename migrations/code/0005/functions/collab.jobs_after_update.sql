-- Statement-level: one job_events row per job change (status, attempt, cancel request or
-- progress), in the same transaction, and each change checked against the state machine
-- (collab.transition_allowed) in the same pass: an illegal one aborts the statement.
-- Lease extensions by heartbeat change none of these and write no event. When it wrote
-- events, collab.notify_events wakes stream subscribers (at most once per 50 ms a session).
create or replace function collab.jobs_after_update()
returns trigger
language plpgsql
as $$
declare
  written bigint;
begin
  insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, executor_id, data, created_at)
  select n.workspace_id, n.id, n.last_event, n.queue, n.type, n.attempt, n.executor_id,
         case n.last_event
           when 'claimed' then jsonb_build_object('lease_expires_at', n.lease_expires_at)
           when 'progress' then jsonb_build_object('progress', n.progress, 'message', n.progress_message)
           when 'retry_scheduled' then jsonb_build_object('run_at', n.run_at, 'error', n.last_error)
           when 'lease_expired' then jsonb_build_object('run_at', n.run_at)
           when 'lease_released' then jsonb_build_object('run_at', n.run_at)
           when 'dead' then jsonb_build_object('error', n.last_error)
           when 'requeued' then jsonb_build_object('run_at', n.run_at)
           else '{}'::jsonb
         end,
         collab.clock()
    from old_jobs o join new_jobs n using (id)
   where ((o.status, o.attempt, o.cancel_requested) is distinct from (n.status, n.attempt, n.cancel_requested)
          or (n.last_event = 'progress'
              and (o.progress, o.progress_message, o.last_event) is distinct from (n.progress, n.progress_message, n.last_event)))
     and case when collab.transition_allowed(o.status, n.status, n.last_event) then true
              else collab.reject_transition(n.id, o.status, n.status, n.last_event) end
   order by n.id;
  get diagnostics written = row_count;
  if written > 0 then
    perform collab.notify_events();
  end if;

  if exists (select 1 from old_jobs o join new_jobs n using (id)
              where n.status = 'queued' and o.status <> 'queued' and n.run_at <= collab.clock()) then
    perform pg_notify('collab_jobs', q.queue)
       from (select distinct n.queue from old_jobs o join new_jobs n using (id)
              where n.status = 'queued' and o.status <> 'queued' and n.run_at <= collab.clock()) q;
  end if;
  return null;
end
$$;
comment on function collab.jobs_after_update() is
  'Trigger: writes one job_events row per job change (waking collab_events through collab.notify_events when it wrote any) and rejects illegal transitions (PT409 illegal_transition).';
