-- What the queue is doing, as one JSON document (docs/metrics.md defines every field):
-- counters and phase latencies (p50/p95/p99) per queue and job type over the window
-- `since` (an interval such as '15m', '24 hours', a timestamp, or 'all'; the window starts at the
-- beginning of that minute), and gauges now: jobs per state per queue, oldest due queued
-- job age, executors online/stale/offline, DLQ size. Rolls up closed minutes first when
-- no other rollup is running (on demand where pg_cron does not), so it is volatile.
create or replace function api.metrics_summary(since text default '15 minutes', queue text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
set jit = off  -- small, frequent queries: compiling them costs more than it saves
as $$
declare
  ws uuid := collab.current_workspace();
  now_ timestamptz := collab.clock();
  start_ timestamptz;
  counters jsonb;
  queues jsonb;
  executors jsonb;
begin
  if metrics_summary.since is null or btrim(metrics_summary.since) = '' then
    perform collab.raise_error('PT400', 'invalid_input', 'since is required (an interval or a timestamp)', 'since');
  end if;
  if lower(btrim(metrics_summary.since)) = 'all' then
    start_ := '-infinity';
  else
  begin
    start_ := now_ - metrics_summary.since::interval;
  exception when others then
    begin
      start_ := metrics_summary.since::timestamptz;
    exception when others then
      perform collab.raise_error('PT400', 'invalid_input',
        format('since must be an interval (15m, 24 hours) or a timestamp, not %L', metrics_summary.since), 'since');
    end;
  end;
  end if;
  start_ := date_trunc('minute', start_);

  perform collab.metrics_rollup();
  counters := collab.metrics_window(ws, start_, metrics_summary.queue);

  -- One grouped pass over the workspace's jobs (no join: the aggregate runs on the scan),
  -- and the oldest due queued job from the queued rows only (partial claim index).
  with counts as (
    select j.queue, j.status, count(*) as n
      from collab.jobs j
     where j.workspace_id = ws and (metrics_summary.queue is null or j.queue = metrics_summary.queue)
     group by j.queue, j.status
  ),
  oldest as (
    select j.queue, min(j.run_at) as run_at
      from collab.jobs j
     where j.workspace_id = ws and j.status = 'queued' and j.run_at <= now_
       and (metrics_summary.queue is null or j.queue = metrics_summary.queue)
     group by j.queue
  )
  select coalesce(jsonb_object_agg(q.name, jsonb_build_object(
           'queued', coalesce((select c.n from counts c where c.queue = q.name and c.status = 'queued'), 0),
           'running', coalesce((select c.n from counts c where c.queue = q.name and c.status = 'running'), 0),
           'succeeded', coalesce((select c.n from counts c where c.queue = q.name and c.status = 'succeeded'), 0),
           'cancelled', coalesce((select c.n from counts c where c.queue = q.name and c.status = 'cancelled'), 0),
           'dead', coalesce((select c.n from counts c where c.queue = q.name and c.status = 'dead'), 0),
           'oldest_queued_age_seconds',
             coalesce((select extract(epoch from now_ - o.run_at) from oldest o where o.queue = q.name), 0),
           'paused', q.paused) order by q.name), '{}'::jsonb)
    into queues
    from collab.queues q
   where q.workspace_id = ws and (metrics_summary.queue is null or q.name = metrics_summary.queue);

  select jsonb_build_object(
           'online', count(*) filter (where e.online and e.last_seen_at >= now_ - make_interval(secs => 2 * e.heartbeat_seconds)),
           'stale', count(*) filter (where e.online and e.last_seen_at < now_ - make_interval(secs => 2 * e.heartbeat_seconds)),
           'offline', count(*) filter (where not e.online))
    into executors
    from collab.executors e
   where e.workspace_id = ws;

  return jsonb_build_object(
    'since', start_,
    'until', now_,
    'queue', metrics_summary.queue,
    'totals', counters -> 'totals',
    'by_queue_type', counters -> 'by_queue_type',
    'gauges', jsonb_build_object(
      'queues', queues,
      'executors', executors,
      'dlq_size', (select coalesce(sum((v ->> 'dead')::bigint), 0) from jsonb_each(queues) q(k, v))));
end
$$;
comment on function api.metrics_summary(text, text) is
  'Metrics of the caller''s workspace as JSON: counters and phase latencies (p50/p95/p99, seconds) per queue and job type since `since` (interval like 15m or 24 hours, or a timestamp), and gauges now (jobs per state, oldest queued age, executors, DLQ size). queue: only that queue. Definitions: docs/metrics.md.';
revoke all on function api.metrics_summary(text, text) from public;
grant execute on function api.metrics_summary(text, text) to authenticated, service_role;
