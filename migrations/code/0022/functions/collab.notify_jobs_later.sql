-- Tells the workers of one workspace when a statement's jobs that are not due yet (a delay, a
-- run_at ahead, a retry's backoff) will be: one notification on `collab_jobs:<workspace_id>`
-- whose payload is `@<ms>[,<ms>...] <queues>`: the distinct due times of those jobs in
-- milliseconds from the statement's time (collab.due_in_ms), ascending, the earliest 64 of
-- them, then the queues of those jobs as collab.notify_jobs lists them (empty: any queue). A
-- worker that hears it wakes itself that many milliseconds after the notification arrives for
-- each, which is no earlier than those jobs' run_at (the notification is sent at the commit,
-- after the statement), and claims then instead of at its next poll; before, nothing wakes it
-- to claim (an idle worker woken at the enqueue would claim, find nothing and sleep again). A
-- batch's jobs due at more than 64 distinct times: those after the 64th start at the poll or
-- at a claim for another job. The queues are those of all the statement's later jobs, so a
-- worker of one of them wakes at every time the notice names.
-- At most once per 50 ms per session and workspace, the window collab.notify_events has
-- (collab.notify_throttled): a notifying transaction takes a cluster-wide lock at commit that
-- serialises it with every other notifying commit, and without the window every delayed enqueue and every failed attempt
-- with a retry ahead paid it (4 clients: 0.78x the delayed enqueues a second, 0.84-0.89x the
-- claim-and-fail cycles; docs/bench.md). A job whose notice the window skipped starts at the
-- first claim after it is due: at the wake-up for a job the session announced a moment later
-- (a steady stream of delayed enqueues: within about 50 ms), for any other job, or at the poll.
-- '@' and ' ' are in no queue name: a worker that reads payloads as queue names only (the
-- Python workers before revision 0020) takes them for no queue of its own or, past the first
-- comma, for the queues it serves, and claims at once, too early, as every worker did before
-- 0019.
-- One expression with no FROM, inlined into the trigger statements that call it
-- (tests/sql/538).
create or replace function collab.notify_jobs_later(workspace_id uuid, queues text[], due_in bigint[])
returns void
language sql
volatile
as $$
  select collab.notify_throttled('collab.jobs_later_notified_' || replace(notify_jobs_later.workspace_id::text, '-', ''),
                                 'collab_jobs:' || notify_jobs_later.workspace_id::text,
                                 '@' || array_to_string(notify_jobs_later.due_in[1:64], ',')
                                 || ' ' || collab.queue_list(notify_jobs_later.queues))
$$;
comment on function collab.notify_jobs_later(uuid, text[], bigint[]) is
  'Notifies "collab_jobs:<workspace_id>" with "@<ms>[,<ms>...] <queues>" (jobs of those queues, empty: any, are due that many milliseconds after the statement: the earliest 64 of due_in, ascending as given), unless this session did for that workspace within the last 50 ms.';
