-- What the queue is doing, as one JSON document (docs/metrics.md defines every field):
-- counters and phase latencies (p50/p95/p99) per queue and job type over the window
-- `since` (an interval such as '15m', '24 hours', a timestamp, or 'all'; the window starts at the
-- beginning of that minute), and gauges now: jobs per state per queue, oldest due queued
-- job age, executors online/stale/offline, DLQ size. It only reads (stable): the rollup
-- runs from the reaper (collab.reap, pg_cron), and everything above its horizon is read live,
-- so a viewer's call takes no transaction id and cannot hold back anyone's events_since.
-- Bounded output: at most 1,000 queue/type series (by_queue_type) and 1,000 queues (gauges),
-- the first by name; `truncated` says whether any were left out (totals and dlq_size still
-- count everything).
create or replace function api.metrics_summary(since text default '15 minutes', queue text default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
set jit = off  -- small, frequent queries: compiling them costs more than it saves
as $$
declare
  ws uuid := collab.require_role('viewer');
  series_cap constant integer := 1000;
  now_ timestamptz := collab.clock();
  truncated boolean;
  truncated_queues boolean;
  dlq_size bigint;
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

  counters := collab.metrics_window(ws, start_, metrics_summary.queue);
  truncated := jsonb_array_length(counters -> 'by_queue_type') > series_cap;
  if truncated then
    counters := jsonb_set(counters, '{by_queue_type}', (
      select jsonb_agg(e.value order by e.ord)
        from jsonb_array_elements(counters -> 'by_queue_type') with ordinality e(value, ord)
       where e.ord <= series_cap));
  end if;

  -- One grouped pass over the workspace's jobs, live and finished (no join: the aggregate runs
  -- on each scan; the two never hold the same state),
  -- and the oldest due queued job from the queued rows only (partial claim index).
  with counts as (
    select j.queue, j.status, count(*) as n
      from collab.jobs j
     where j.workspace_id = ws and (metrics_summary.queue is null or j.queue = metrics_summary.queue)
     group by j.queue, j.status
    union all
    select h.queue, h.status, count(*) as n
      from collab.job_history h
     where h.workspace_id = ws and (metrics_summary.queue is null or h.queue = metrics_summary.queue)
     group by h.queue, h.status
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
           'paused', q.paused) order by q.name) filter (where q.rank <= series_cap), '{}'::jsonb),
         coalesce(max(q.rank) > series_cap, false),
         (select count(*) from collab.job_history j
           where j.workspace_id = ws and j.status = 'dead'
             and (metrics_summary.queue is null or j.queue = metrics_summary.queue))
    into queues, truncated_queues, dlq_size
    from (select x.name, x.paused, row_number() over (order by x.name) as rank
            from collab.queues x
           where x.workspace_id = ws and (metrics_summary.queue is null or x.name = metrics_summary.queue)
           order by x.name
           limit series_cap + 1) q;

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
    'truncated', truncated or truncated_queues,
    'totals', counters -> 'totals',
    'by_queue_type', counters -> 'by_queue_type',
    'gauges', jsonb_build_object(
      'queues', queues,
      'executors', executors,
      'dlq_size', dlq_size));
end
$$;
comment on function api.metrics_summary(text, text) is
  'Metrics of the caller''s workspace as JSON: counters and phase latencies (p50/p95/p99, seconds) per queue and job type since `since` (interval like 15m or 24 hours, or a timestamp), and gauges now (jobs per state, oldest queued age, executors, DLQ size). queue: only that queue. At most 1000 queue/type series and 1000 queues (first by name); truncated: true when some were left out. Read-only: rollups are made by the reaper. Definitions: docs/metrics.md.';
revoke all on function api.metrics_summary(text, text) from public;
grant execute on function api.metrics_summary(text, text) to authenticated, service_role;
