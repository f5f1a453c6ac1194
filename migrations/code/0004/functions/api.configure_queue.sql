-- Change a queue's settings (created on first use); a null argument keeps the setting.
-- concurrency_limit 0 removes the limit.
create or replace function api.configure_queue(
  queue text,
  concurrency_limit integer default null,
  lease_seconds integer default null,
  max_attempts integer default null,
  backoff_base_seconds double precision default null,
  backoff_max_seconds double precision default null,
  backoff_jitter double precision default null
)
returns api.queue
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.require_role('admin');
  q collab.queues;
begin
  q := collab.ensure_queue(ws, configure_queue.queue);
  if configure_queue.concurrency_limit is not null and configure_queue.concurrency_limit not between 0 and 100000 then
    perform collab.raise_error('PT400', 'invalid_input', 'concurrency_limit must be between 0 (none) and 100000', 'concurrency_limit');
  end if;
  if configure_queue.lease_seconds is not null and configure_queue.lease_seconds not between 1 and 86400 then
    perform collab.raise_error('PT400', 'invalid_input', 'lease_seconds must be between 1 and 86400', 'lease_seconds');
  end if;
  if configure_queue.max_attempts is not null and configure_queue.max_attempts not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'max_attempts must be between 1 and 1000', 'max_attempts');
  end if;
  if configure_queue.backoff_jitter is not null and configure_queue.backoff_jitter not between 0 and 1 then
    perform collab.raise_error('PT400', 'invalid_input', 'backoff_jitter must be between 0 and 1', 'backoff_jitter');
  end if;
  if coalesce(configure_queue.backoff_base_seconds, q.backoff_base_seconds) not between 0.001 and 604800
     or coalesce(configure_queue.backoff_max_seconds, q.backoff_max_seconds)
        not between coalesce(configure_queue.backoff_base_seconds, q.backoff_base_seconds) and 604800 then
    perform collab.raise_error('PT400', 'invalid_input',
      'backoff must satisfy 0.001 <= backoff_base_seconds <= backoff_max_seconds <= 604800', 'backoff_base_seconds');
  end if;
  update collab.queues x set
    concurrency_limit = case when configure_queue.concurrency_limit is null then x.concurrency_limit
                             else nullif(configure_queue.concurrency_limit, 0) end,
    lease_seconds = coalesce(configure_queue.lease_seconds, x.lease_seconds),
    max_attempts = coalesce(configure_queue.max_attempts, x.max_attempts),
    backoff_base_seconds = coalesce(configure_queue.backoff_base_seconds, x.backoff_base_seconds),
    backoff_max_seconds = coalesce(configure_queue.backoff_max_seconds, x.backoff_max_seconds),
    backoff_jitter = coalesce(configure_queue.backoff_jitter, x.backoff_jitter)
   where x.workspace_id = ws and x.name = configure_queue.queue
  returning * into q;
  return collab.queue_row(q);
end
$$;
comment on function api.configure_queue(text, integer, integer, integer, double precision, double precision, double precision) is
  'Set a queue''s concurrency_limit (0: none), lease_seconds, max_attempts and backoff (base, max seconds; jitter fraction). Null keeps a setting.';
revoke all on function api.configure_queue(text, integer, integer, integer, double precision, double precision, double precision) from public;
grant execute on function api.configure_queue(text, integer, integer, integer, double precision, double precision, double precision) to authenticated, service_role;
