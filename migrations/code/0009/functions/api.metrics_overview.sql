-- The dashboard's one document (Edge Function metrics-overview): per queue its depth (queued,
-- of which due), running jobs and whether it is paused; throughput (completed, failed, dead
-- per minute) and p50/p95/p99 of queue wait, run time and end to end over the last `minutes`
-- (collab.metrics_window: rollups plus live events); the DLQ size; executors online, stale and
-- offline. Reads only the queued, running and dead rows (partial indexes) and the rollups,
-- never a scan of every job, so it stays fast with millions of finished jobs. At most 1,000
-- queues (the first by name; `truncated` says when more exist).
create or replace function api.metrics_overview(minutes integer default 15)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
set jit = off
as $$
declare
  ws uuid := collab.require_role('viewer');
  now_ timestamptz := collab.clock();
  start_ timestamptz;
  window_ jsonb;
  queues jsonb;
  truncated boolean;
  executors jsonb;
  dlq bigint;
begin
  if metrics_overview.minutes is null or metrics_overview.minutes not between 1 and 1440 then
    perform collab.raise_error('PT400', 'invalid_input', 'minutes must be between 1 and 1440', 'minutes');
  end if;
  start_ := date_trunc('minute', now_ - make_interval(mins => metrics_overview.minutes));
  window_ := collab.metrics_window(ws, start_, null);

  with q as (
    select x.name, x.paused, x.concurrency_limit, row_number() over (order by x.name) as rank
      from collab.queues x where x.workspace_id = ws order by x.name limit 1001
  ),
  queued as (
    select j.queue, count(*) as n, count(*) filter (where j.run_at <= now_) as due,
           min(j.run_at) filter (where j.run_at <= now_) as oldest
      from collab.jobs j where j.workspace_id = ws and j.status = 'queued' group by j.queue
  ),
  running as (
    select j.queue, count(*) as n
      from collab.jobs j where j.workspace_id = ws and j.status = 'running' group by j.queue
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'queue', q.name,
           'paused', q.paused,
           'concurrency_limit', q.concurrency_limit,
           'depth', coalesce(qd.n, 0),
           'due', coalesce(qd.due, 0),
           'oldest_due_age_seconds', coalesce(extract(epoch from now_ - qd.oldest), 0),
           'running', coalesce(r.n, 0)) order by q.name) filter (where q.rank <= 1000), '[]'::jsonb),
         coalesce(max(q.rank) > 1000, false)
    into queues, truncated
    from q left join queued qd on qd.queue = q.name left join running r on r.queue = q.name;

  -- The DLQ size: the dead rows only (an index on workspace_id and status, or jobs_dead_idx),
  -- one statement on its own, to point at wherever finished jobs are kept.
  select count(*) into dlq from collab.job_history j where j.workspace_id = ws and j.status = 'dead';

  select jsonb_build_object(
           'online', count(*) filter (where e.online and e.last_seen_at >= now_ - make_interval(secs => e.heartbeat_seconds)),
           'stale', count(*) filter (where e.online and e.last_seen_at < now_ - make_interval(secs => e.heartbeat_seconds)
                                      and e.last_seen_at >= now_ - make_interval(secs => 3 * e.heartbeat_seconds)),
           'offline', count(*) filter (where not e.online or e.last_seen_at < now_ - make_interval(secs => 3 * e.heartbeat_seconds)))
    into executors
    from collab.executors e where e.workspace_id = ws;

  return jsonb_build_object(
    'generated_at', now_,
    'window', jsonb_build_object('since', start_, 'until', now_, 'minutes', metrics_overview.minutes),
    'queues', queues,
    'truncated', truncated,
    'throughput', jsonb_build_object(
      'completed', coalesce((window_ #>> '{totals,counters,completed}')::bigint, 0),
      'failed', coalesce((window_ #>> '{totals,counters,failed}')::bigint, 0),
      'dead', coalesce((window_ #>> '{totals,counters,dead}')::bigint, 0),
      'enqueued', coalesce((window_ #>> '{totals,counters,enqueued}')::bigint, 0),
      'completed_per_minute', round(coalesce((window_ #>> '{totals,counters,completed}')::numeric, 0)
                                    / greatest(extract(epoch from now_ - start_) / 60, 1)::numeric, 3)),
    'latency', window_ #> '{totals,latency}',
    'by_queue_type', window_ -> 'by_queue_type',
    'dlq_size', dlq,
    'executors', executors);
end
$$;
comment on function api.metrics_overview(integer) is
  'The dashboard''s overview as one JSON document: per queue depth (queued, due), running and paused; throughput and p50/p95/p99 of queue wait, run time and end to end (seconds) over the last `minutes` (1-1440, default 15); DLQ size; executors online/stale/offline. Reads only queued, running and dead rows and the rollups. Viewer role.';
revoke all on function api.metrics_overview(integer) from public;
grant execute on function api.metrics_overview(integer) to authenticated, service_role;
