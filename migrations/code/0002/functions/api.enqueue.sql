-- Enqueue one job. With an idempotency key, a repeat with the same queue, type and payload
-- returns the existing job (duplicate = true, no new event); a different one is PT409
-- idempotency_conflict. Concurrent repeats make exactly one job (unique index + ON CONFLICT).
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
set search_path = ''
as $$
begin
  return (select j from api.enqueue_batch(jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
    'queue', enqueue.queue,
    'type', enqueue.type,
    'payload', coalesce(enqueue.payload, '{}'::jsonb),
    'priority', enqueue.priority,
    'run_at', enqueue.run_at,
    'delay', enqueue.delay::text,
    'max_attempts', enqueue.max_attempts,
    'idempotency_key', enqueue.idempotency_key)))) j);
end
$$;
comment on function api.enqueue(text, text, jsonb, integer, timestamptz, integer, text, interval) is
  'Enqueue one job on a queue (created on first use). priority: higher first. run_at or delay: not before. max_attempts: defaults to the queue''s. idempotency_key: unique per workspace; a repeat with the same payload returns the existing job with duplicate=true, a different payload raises PT409 idempotency_conflict.';
revoke all on function api.enqueue(text, text, jsonb, integer, timestamptz, integer, text, interval) from public;
grant execute on function api.enqueue(text, text, jsonb, integer, timestamptz, integer, text, interval) to authenticated, service_role;
