-- Wakes the workers of one workspace for queues that just got jobs due now (the job triggers'
-- call), leaving out the queues none of them could claim from: a paused queue, and a queue
-- at its concurrency limit (as many jobs running as the limit, for a limit of up to 100).
-- Every worker listening with a free slot claims on a wake-up, so each enqueue to such a
-- queue cost one claim that found nothing per idle worker: with four workers on a paused
-- queue, 3.2 to 3.5 such claims an enqueue, more claims than enqueues in the database
-- (docs/bench.md, "Wake-ups for queues nobody can claim from"). Their jobs are claimed later,
-- on the wake-ups that open them: a resume, or a limit raised or removed, wakes the workers
-- (collab.queues_after_update), and the worker whose report frees a place claims again
-- (docs/architecture.md); the poll otherwise. A queue resumed, or a place freed, between this
-- statement and its commit is read as it was at the statement: its jobs wait for the next
-- wake-up of their queue or the poll, as a job whose wake-up the window of
-- collab.notify_jobs_later skipped does.
-- One statement; the running jobs are counted only for a queue with a limit of at most 100,
-- and only up to it (jobs_running_lease_idx): a queue with a larger limit is woken as before,
-- so that no enqueue reads more than 100 entries to save claims (a claim of a limited queue
-- counts its running jobs itself). PL/pgSQL, so its plan is kept: a SQL function with a FROM
-- is planned again at every call (tests/sql/538). The job triggers call it only when one of
-- the queues is paused or has a limit of up to 100 (one it may leave out), and
-- collab.notify_jobs directly otherwise: a PL/pgSQL call at every enqueue cost 1.169x.
create or replace function collab.wake_workers(workspace_id uuid, queues text[])
returns void
language plpgsql
volatile
as $$
declare
  open_ text[];
begin
  open_ := array(
    select n.name
      from unnest(wake_workers.queues) with ordinality n(name, i)
     where not exists (
             select from collab.queues q
              where q.workspace_id = wake_workers.workspace_id and q.name = n.name
                and (q.paused
                     or case when q.concurrency_limit <= 100  -- (no limit: not counted)
                             then q.concurrency_limit <= (
                                    select count(*) from (
                                      select from collab.jobs j
                                       where j.workspace_id = wake_workers.workspace_id and j.queue = n.name
                                         and j.status = 'running'
                                       limit q.concurrency_limit) r)
                             else false end))
     order by n.i);
  if cardinality(open_) > 0 then
    perform collab.notify_jobs(wake_workers.workspace_id, open_);
  end if;
end
$$;
comment on function collab.wake_workers(uuid, text[]) is
  'Wakes the workers (collab.notify_jobs) for those of queues that are open and below their concurrency limit (limits up to 100; a larger one is not counted); none: no notification.';
