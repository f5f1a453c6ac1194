-- A queue as the api returns it.
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.queue_row(q collab.queues)
returns api.queue
language sql
immutable
parallel safe
as $$
  select row(q.name, q.paused, q.concurrency_limit, q.lease_seconds, q.max_attempts,
             q.backoff_base_seconds, q.backoff_max_seconds, q.backoff_jitter, q.created_at)::api.queue
$$;
comment on function collab.queue_row(collab.queues) is 'Converts a collab.queues row to api.queue.';
