-- Statement-level: one event per inserted job, in the same transaction: `enqueued` for a new
-- job, `requeued` for a dead job api.requeue moved back from collab.job_history; and per
-- workspace one stream wake-up (collab.notify_events) and, when some of its new jobs are due
-- now, one worker wake-up naming their queues, those open and below their concurrency limit
-- (collab.wake_workers; none of them: no wake-up). A job whose run_at is ahead wakes no
-- worker now (each idle worker would make a claim that finds nothing): when
-- some are, one notification tells the workers when they are due (their distinct due times,
-- the earliest 64, in milliseconds from this statement's time) and the queues of those jobs
-- (collab.notify_jobs_later), and they claim then; jobs_after_update does the same for jobs
-- that become runnable (a retry's backoff). Idempotent duplicates insert nothing, so get no
-- event.
-- An `enqueued` event's data is the job's priority and run_at. A batch's jobs usually share
-- both (the defaults: 0 and the call's time), and then the data is built once for the
-- statement: built per row, jsonb_build_object (which looks up how to convert each argument's
-- type at every call) took 8 % of a batch of 1,000 (docs/bench.md). Same data either way
-- (tests/sql/198). The one pass over the new jobs that finds it also checks their state.
create or replace function collab.jobs_after_insert()
returns trigger
language plpgsql
as $$
declare
  illegal boolean;
  shared_data jsonb;
  now_ timestamptz;
  at_ timestamptz;
begin
  select bool_or(n.status <> 'queued' or n.last_event not in ('enqueued', 'requeued')),
         case when bool_and(n.last_event = 'enqueued')
                   and min(n.priority) = max(n.priority) and min(n.run_at) = max(n.run_at)
              then jsonb_build_object('priority', min(n.priority), 'run_at', min(n.run_at)) end
    into illegal, shared_data
    from new_jobs n;
  if illegal then
    perform collab.raise_error('PT409', 'illegal_transition',
      'a new job must start queued with the enqueued event', 'status');
  end if;
  insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, executor_id, data, created_at)
  select n.workspace_id, n.id, n.last_event, n.queue, n.type, n.attempt,
         case when n.last_event = 'requeued' then n.executor_id end,
         coalesce(shared_data,
                  case when n.last_event = 'requeued' then jsonb_build_object('run_at', n.run_at)
                       else jsonb_build_object('priority', n.priority, 'run_at', n.run_at) end),
         case when n.last_event = 'requeued' then collab.clock() else n.created_at end
    from new_jobs n
   order by n.id;
  now_ := collab.clock();
  at_ := collab.statement_clock();
  perform case when w.queues is null then null
               when exists (select from collab.queues q  -- one it may leave out: collab.wake_workers
                             where q.workspace_id = w.workspace_id and q.name = any(w.queues)
                               and (q.paused or q.concurrency_limit <= 100))
               then collab.wake_workers(w.workspace_id, w.queues)
               else collab.notify_jobs(w.workspace_id, w.queues) end,
          case when w.due_in is not null then collab.notify_jobs_later(w.workspace_id, w.later, w.due_in) end,
          collab.notify_events(w.workspace_id)
     from (select n.workspace_id,
                  array_agg(distinct n.queue order by n.queue) filter (where n.run_at <= now_) as queues,
                  array_agg(distinct n.queue order by n.queue) filter (where n.run_at > now_) as later,
                  array_agg(distinct collab.due_in_ms(n.run_at, at_) order by collab.due_in_ms(n.run_at, at_))
                    filter (where n.run_at > now_) as due_in
             from new_jobs n group by n.workspace_id) w;
  return null;
end
$$;
comment on function collab.jobs_after_insert() is
  'Trigger: writes the enqueued event of each new job (requeued for a job moved back from the history) and, per workspace, wakes its stream subscribers (collab.notify_events) and, for the jobs due now, its workers (collab.wake_workers: the queues they can claim from); for jobs due later it tells the workers when they are due (collab.notify_jobs_later).';
