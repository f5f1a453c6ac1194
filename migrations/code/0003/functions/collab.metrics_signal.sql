-- Record an outcome that writes no job_event (a claim conflict, an idempotent duplicate, a
-- fencing rejection that does not roll back) as one appended row: no shared counter row,
-- so concurrent callers never wait on each other. The hook for the functions where these
-- outcomes happen (docs/metrics.md says which are wired).
create or replace function collab.metrics_signal(
  kind text,
  workspace_id uuid,
  queue text,
  job_type text,
  count bigint default 1
)
returns void
language sql
volatile
set search_path = ''
as $$
  insert into collab.metrics_signals (workspace_id, kind, queue, job_type, count, created_at)
  select metrics_signal.workspace_id, metrics_signal.kind, metrics_signal.queue,
         metrics_signal.job_type, metrics_signal.count, collab.clock()
   where coalesce(metrics_signal.count, 0) > 0
$$;
comment on function collab.metrics_signal(text, uuid, text, text, bigint) is
  'Appends one metrics_signals row (claim_conflict, idempotent_duplicate, fencing_rejection) when count > 0.';
