-- Wakes the workers of one workspace: one notification on `collab_jobs:<workspace_id>` whose
-- payload lists the queues (comma-separated, sorted) that just got runnable jobs, or is empty
-- when that list would not fit a notification (then: any queue; collab.queue_list). The triggers call it once
-- per workspace per statement, so a batch of 10,000 jobs over 10,000 queues is one wake-up,
-- and no tenant hears another's queue names (security review, finding 8).
-- One expression with no FROM, so that the planner inlines it into the trigger statement that
-- calls it, whose plan PL/pgSQL keeps: written as a SELECT with a FROM, it could not be
-- inlined, and Postgres parsed and planned its body again at every call, 15 us of an
-- enqueue's 280 (tests/sql/538, docs/bench.md).
create or replace function collab.notify_jobs(workspace_id uuid, queues text[])
returns void
language sql
volatile
as $$
  select pg_notify('collab_jobs:' || notify_jobs.workspace_id::text, collab.queue_list(notify_jobs.queues))
$$;
comment on function collab.notify_jobs(uuid, text[]) is
  'Notifies "collab_jobs:<workspace_id>" with the comma-separated queues that got runnable jobs (empty: too many to list, any queue).';
