-- Statement-level: one `enqueued` event per inserted job, in the same transaction, and one
-- wake-up notification per queue. Idempotent duplicates insert nothing, so get no event.
create or replace function collab.jobs_after_insert()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if exists (select 1 from new_jobs n where n.status <> 'queued' or n.last_event <> 'enqueued') then
    perform collab.raise_error('PT409', 'illegal_transition',
      'a new job must start queued with the enqueued event', 'status');
  end if;
  insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, executor_id, data, created_at)
  select n.workspace_id, n.id, 'enqueued', n.queue, n.type, n.attempt, null,
         jsonb_build_object('priority', n.priority, 'run_at', n.run_at),
         n.created_at
    from new_jobs n
   order by n.id;
  perform pg_notify('collab_jobs', q.queue)
     from (select distinct n.queue from new_jobs n) q;
  return null;
end
$$;
comment on function collab.jobs_after_insert() is
  'Trigger: writes the enqueued event of each new job and notifies collab_jobs with the queue name.';
