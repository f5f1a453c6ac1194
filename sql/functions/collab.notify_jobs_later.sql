-- Tells the workers of one workspace when the earliest of a statement's jobs that are not due
-- yet (a delay, a run_at ahead, a retry's backoff) will be: one notification on
-- `collab_jobs:<workspace_id>` whose payload is `@<ms> <queues>`, the milliseconds from the
-- transaction's time (collab.clock()) to due_at, at least 1, then the queues of those jobs as
-- collab.notify_jobs lists them (empty: any queue). A worker that hears it wakes itself that
-- many milliseconds after the notification arrives, which is no earlier than the job's
-- run_at (the notification is sent at the commit, after the transaction's time), and claims
-- then instead of at its next poll; before it, nothing wakes it to claim (an idle worker
-- woken at the enqueue would claim, find nothing and sleep again).
-- At most once per 50 ms per session and workspace, the window collab.notify_events has
-- (collab.notify_throttled): a notifying transaction takes a cluster-wide lock at commit that
-- serialises it with every other notifying commit, and without the window every delayed enqueue and every failed attempt
-- with a retry ahead paid it (4 clients: 0.78x the delayed enqueues a second, 0.84-0.89x the
-- claim-and-fail cycles; docs/bench.md). A job whose notice the window skipped starts at the
-- first claim after it is due: at the wake-up for a job the session announced a moment later
-- (a steady stream of delayed enqueues: within about 50 ms), for any other job, or at the poll.
-- '@' and ' ' are in no queue name: a worker that reads payloads as queue names only (the
-- Python workers before revision 0020) takes `@<ms> <first queue>` for no queue of its own,
-- and claims at once for the others it serves, too early, as every worker did before 0019.
-- One expression with no FROM, inlined into the trigger statements that call it
-- (tests/sql/538).
create or replace function collab.notify_jobs_later(workspace_id uuid, queues text[], due_at timestamptz)
returns void
language sql
volatile
as $$
  select collab.notify_throttled('collab.jobs_later_notified_' || replace(notify_jobs_later.workspace_id::text, '-', ''),
                                 'collab_jobs:' || notify_jobs_later.workspace_id::text,
                                 '@' || greatest(1, ceil(extract(epoch from notify_jobs_later.due_at - collab.clock()) * 1000))::bigint::text
                                 || ' ' || collab.queue_list(notify_jobs_later.queues))
$$;
comment on function collab.notify_jobs_later(uuid, text[], timestamptz) is
  'Notifies "collab_jobs:<workspace_id>" with "@<ms> <queues>" (jobs of those queues, empty: any, are due ms milliseconds after the transaction''s time), unless this session did for that workspace within the last 50 ms.';
