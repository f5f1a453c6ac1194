-- Statement-level: one job_events row per job change (status, attempt, cancel request or
-- progress), in the same transaction, and each change checked against the state machine
-- (collab.transition_allowed) in the same pass: an illegal one aborts the statement.
-- Lease extensions by heartbeat change none of these and write no event. When it wrote
-- events, collab.notify_events wakes the workspace's stream subscribers (at most once per 50 ms a
-- session); a job that became runnable again wakes its workers (collab.wake_workers: unless
-- its queue is paused or at its concurrency limit), or, when its run_at is ahead, tells them
-- when it is due (collab.notify_jobs_later).
-- The hot statements of Collab's own functions (api.claim's UPDATE; the moves of api.complete
-- and api.complete_batch, for collab.job_history_after_insert) write their events themselves,
-- in the same statement, as the contract's bare writes do (docs/architecture.md, "Events").
-- Such a function sets collab.statement_events to the table the statement writes,
-- transaction-local, just before it; the trigger, fired at the end of that statement, clears
-- it (one statement's worth; the function's SET clauses end it with the call in any case) and
-- leaves the statement's rows to it. Only a writer that holds the table's privileges with
-- grant option, as its owner does, may set it: every api function runs as the owner (SECURITY
-- DEFINER) and no caller does. Anyone else is refused (42501), the statement with it: a
-- service_role session that sets the value by hand (its change would have no event), or api
-- functions left owned by another role than the table's (their events would be written twice)
-- (tests/sql/193). Every other writer, and every other statement of the api, is left to the
-- trigger.
create or replace function collab.jobs_after_update()
returns trigger
language plpgsql
as $$
declare
  written bigint;
  now_ timestamptz;
  at_ timestamptz;
begin
  -- A statement of Collab's own that wrote its events itself (above).
  if current_setting('collab.statement_events', true) = 'collab.jobs' then
    perform set_config('collab.statement_events', '', true);
    if not pg_catalog.has_table_privilege(tg_relid, 'TRUNCATE WITH GRANT OPTION') then
      raise exception 'collab.statement_events names %.% but this writer does not own it',
        tg_table_schema, tg_table_name
        using errcode = '42501',
              hint = 'only Collab''s api functions set it, owned by the owner of the table';
    end if;
    return null;
  end if;
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
    perform collab.notify_events(w.workspace_id) from (select distinct n.workspace_id from new_jobs n) w;
    -- Jobs back to queued (a fail with attempts left, a lease expired or released, a
    -- requeue): each such change wrote an event, so none comes without one (a heartbeat's
    -- statement never gets here). Due now: a wake-up naming their queues; due later (a
    -- backoff): when they are, as collab.jobs_after_insert says for a delayed enqueue. One
    -- pass over the changed rows for both.
    now_ := collab.clock();
    at_ := collab.statement_clock();
    perform case when w.queues is null then null
                 when exists (select from collab.queues q  -- one it may leave out: collab.wake_workers
                               where q.workspace_id = w.workspace_id and q.name = any(w.queues)
                                 and (q.paused or q.concurrency_limit <= 100))
                 then collab.wake_workers(w.workspace_id, w.queues)
                 else collab.notify_jobs(w.workspace_id, w.queues) end,
            case when w.due_in is not null then collab.notify_jobs_later(w.workspace_id, w.later, w.due_in) end
       from (select n.workspace_id,
                    array_agg(distinct n.queue order by n.queue) filter (where n.run_at <= now_) as queues,
                    array_agg(distinct n.queue order by n.queue) filter (where n.run_at > now_) as later,
                    array_agg(distinct collab.due_in_ms(n.run_at, at_) order by collab.due_in_ms(n.run_at, at_))
                      filter (where n.run_at > now_) as due_in
               from old_jobs o join new_jobs n using (id)
              where n.status = 'queued' and o.status <> 'queued'
              group by n.workspace_id) w;
  end if;
  return null;
end
$$;
comment on function collab.jobs_after_update() is
  'Trigger: writes one job_events row per job change (waking the workspace''s stream subscribers through collab.notify_events when it wrote any, and its workers through collab.wake_workers when jobs became runnable, or collab.notify_jobs_later when they will be) and rejects illegal transitions (PT409 illegal_transition).';
