-- The caller's workspace metrics in the Prometheus text exposition format (version 0.0.4),
-- all `collab_` prefixed: counters since the first event (`collab_jobs_<counter>_total`
-- {queue, type}), gauges now, and the three phase latencies as histograms
-- (`_bucket{le=…}`, `_sum`, `_count`, in seconds). The same numbers as
-- api.metrics_summary(since => 'all'), so read-only and bounded as it is (at most 1,000
-- queue/type series and 1,000 queues). Served at /metrics by `collab metrics serve`.
create or replace function api.metrics_prometheus()
returns text
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  s jsonb := api.metrics_summary('all');
  out text[] := '{}';
  c record;
  h record;
begin
  for c in
    select * from (values
      ('enqueued', 'Jobs enqueued (idempotent duplicates excluded).'),
      ('claims', 'Attempts started: jobs handed to an executor by a claim.'),
      ('claim_conflicts', 'Claim calls that came back short while due jobs were locked by other claimers.'),
      ('lease_expirations', 'Attempts ended because their lease expired.'),
      ('lease_releases', 'Attempts ended because their executor went offline.'),
      ('retries', 'Failed attempts reported by the executor and scheduled again.'),
      ('failed', 'Attempts that ended without success or cancel (retried, expired, released or dead).'),
      ('dead', 'Jobs that entered the dead-letter queue.'),
      ('completed', 'Jobs that succeeded.'),
      ('cancelled', 'Jobs cancelled.'),
      ('requeued', 'Jobs requeued from the dead-letter queue.'),
      ('idempotent_duplicates', 'Enqueues that returned an existing job for their idempotency key.'),
      ('fencing_rejections', 'Executor calls rejected for a stale lease token (lease_lost).')
    ) v(name, help)
  loop
    out := out || format('# HELP collab_jobs_%s_total %s', c.name, c.help)
               || format('# TYPE collab_jobs_%s_total counter', c.name);
    out := out || coalesce((
      select array_agg(format('collab_jobs_%s_total{queue="%s",type="%s"} %s', c.name,
                              collab.metrics_label(e ->> 'queue'), collab.metrics_label(e ->> 'type'),
                              e -> 'counters' ->> c.name) order by e ->> 'queue', e ->> 'type')
        from jsonb_array_elements(s -> 'by_queue_type') e), '{}');
  end loop;

  for h in
    select * from (values
      ('queue_wait', 'Queue wait: run_at to claim, per attempt.'),
      ('run_time', 'Run time: claim to the end of the attempt (succeeded, retry_scheduled or dead).'),
      ('end_to_end', 'End to end: enqueue to succeeded or dead.')
    ) v(name, help)
  loop
    out := out || format('# HELP collab_job_%s_seconds %s', h.name, h.help)
               || format('# TYPE collab_job_%s_seconds histogram', h.name);
    out := out || coalesce((
      select array_agg(line order by q, t, k)
        from (
          select e ->> 'queue' as q, e ->> 'type' as t, b.ord as k,
                 format('collab_job_%s_seconds_bucket{queue="%s",type="%s",le="%s"} %s', h.name,
                        collab.metrics_label(e ->> 'queue'), collab.metrics_label(e ->> 'type'),
                        b.bucket ->> 0, b.bucket ->> 1) as line
            from jsonb_array_elements(s -> 'by_queue_type') e
           cross join lateral jsonb_array_elements(e -> 'latency' -> h.name -> 'buckets') with ordinality b(bucket, ord)
          union all
          select e ->> 'queue', e ->> 'type', 1000,
                 format('collab_job_%s_seconds_sum{queue="%s",type="%s"} %s', h.name,
                        collab.metrics_label(e ->> 'queue'), collab.metrics_label(e ->> 'type'),
                        e -> 'latency' -> h.name ->> 'sum_seconds')
            from jsonb_array_elements(s -> 'by_queue_type') e
          union all
          select e ->> 'queue', e ->> 'type', 1001,
                 format('collab_job_%s_seconds_count{queue="%s",type="%s"} %s', h.name,
                        collab.metrics_label(e ->> 'queue'), collab.metrics_label(e ->> 'type'),
                        e -> 'latency' -> h.name ->> 'count')
            from jsonb_array_elements(s -> 'by_queue_type') e) x), '{}');
  end loop;

  out := out || '# HELP collab_jobs Jobs per queue and state, now.'::text || '# TYPE collab_jobs gauge'::text;
  out := out || coalesce((
    select array_agg(format('collab_jobs{queue="%s",state="%s"} %s', collab.metrics_label(q.key), st, q.value ->> st)
                     order by q.key, st)
      from jsonb_each(s -> 'gauges' -> 'queues') q
     cross join unnest(array['queued', 'running', 'succeeded', 'cancelled', 'dead']) st), '{}');
  out := out || '# HELP collab_queue_oldest_queued_age_seconds Age of the oldest due queued job (now - run_at), 0 when none.'::text
             || '# TYPE collab_queue_oldest_queued_age_seconds gauge'::text;
  out := out || coalesce((
    select array_agg(format('collab_queue_oldest_queued_age_seconds{queue="%s"} %s', collab.metrics_label(q.key),
                            q.value ->> 'oldest_queued_age_seconds') order by q.key)
      from jsonb_each(s -> 'gauges' -> 'queues') q), '{}');
  out := out || '# HELP collab_executors Executors by presence: online, stale (missed heartbeats), offline.'::text
             || '# TYPE collab_executors gauge'::text;
  out := out || coalesce((
    select array_agg(format('collab_executors{state="%s"} %s', g2.key, g2.value) order by g2.key)
      from jsonb_each_text(s -> 'gauges' -> 'executors') g2), '{}');
  out := out || '# HELP collab_dlq_size Jobs in the dead-letter queue, now.'::text
             || '# TYPE collab_dlq_size gauge'::text
             || format('collab_dlq_size %s', s -> 'gauges' ->> 'dlq_size');
  -- LLM routing (issue 15): gauges of the latest snapshot of each service
  out := out || collab.routing_prometheus(collab.current_workspace());
  return array_to_string(out, E'\n') || E'\n';
end
$$;
comment on function api.metrics_prometheus() is
  'Metrics of the caller''s workspace in the Prometheus text format (collab_ prefix; counters _total, histograms _bucket{le}/_sum/_count in seconds, gauges now). Same numbers as api.metrics_summary(since => ''all'').';
revoke all on function api.metrics_prometheus() from public;
grant execute on function api.metrics_prometheus() to authenticated, service_role;
