-- Enqueue one job. The common call (no idempotency key, no run_at or delay, every argument
-- valid) takes a direct path: one INSERT of one row, 1.5x the calls per second of building a
-- one-element batch (docs/architecture.md). Every other call, including every invalid one,
-- goes through api.enqueue_batch, which holds the validation, the error messages and the
-- idempotency rules; the direct path's condition below only admits what that path accepts
-- (tests/sql/105 holds the two paths to the same answers). A workspace at its stored_jobs
-- limit goes through api.enqueue_batch too, which refuses it.
-- No JIT (jit), for the reason api.complete_batch gives.
create or replace function api.enqueue(
  queue text,
  type text,
  payload jsonb default '{}',
  priority integer default 0,
  run_at timestamptz default null,
  max_attempts integer default null,
  idempotency_key text default null,
  delay interval default null
)
returns api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set jit = off
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz;
  q collab.queues;
  new_job collab.jobs;
begin
  if enqueue.idempotency_key is not null or enqueue.run_at is not null or enqueue.delay is not null
     or enqueue.priority is null or enqueue.priority not between -1000000 and 1000000
     or enqueue.max_attempts not between 1 and 1000
     or not coalesce(collab.is_name(enqueue.queue) and collab.is_name(enqueue.type), false)
     -- One read of the workspace row: its payload cap, and the stored_jobs flag the reaper sets
     -- (collab.count_stored_jobs; api.enqueue_batch raises the PT429).
     or (select w.stored_jobs_full or octet_length(enqueue.payload::text) > w.max_payload_bytes
           from collab.workspaces w where w.id = ws) then
    -- Absent arguments are left out (jsonb_strip_nulls); the payload is added afterwards, so
    -- the nulls inside it are kept.
    return (select b from api.enqueue_batch(jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
      'queue', enqueue.queue,
      'type', enqueue.type,
      'priority', enqueue.priority,
      'run_at', enqueue.run_at,
      'delay', enqueue.delay::text,
      'max_attempts', enqueue.max_attempts,
      'idempotency_key', enqueue.idempotency_key))
      || jsonb_build_object('payload', coalesce(enqueue.payload, '{}'::jsonb)))) b);
  end if;
  perform collab.take_tokens(ws, 'enqueue', null, 1);
  perform collab.check_queued_quota(ws, 1);
  q := collab.ensure_queue(ws, enqueue.queue);
  now_ := collab.clock();
  insert into collab.jobs (workspace_id, queue, type, payload, priority, run_at, max_attempts, created_at)
  values (ws, enqueue.queue, enqueue.type, coalesce(nullif(enqueue.payload, 'null'::jsonb), '{}'::jsonb),
          enqueue.priority, now_, coalesce(enqueue.max_attempts, q.max_attempts), now_)
  returning * into new_job;
  return collab.job_row(new_job);
end
$$;
comment on function api.enqueue(text, text, jsonb, integer, timestamptz, integer, text, interval) is
  'Enqueue one job on a queue (created on first use). priority: higher first. run_at or delay: not before. max_attempts: defaults to the queue''s. idempotency_key: unique per workspace; a repeat with the same payload returns the existing job with duplicate=true, a different payload raises PT409 idempotency_conflict.';
revoke all on function api.enqueue(text, text, jsonb, integer, timestamptz, integer, text, interval) from public;
grant execute on function api.enqueue(text, text, jsonb, integer, timestamptz, integer, text, interval) to authenticated, service_role;
