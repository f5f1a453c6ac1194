-- One phase's latency summary from its sparse millisecond histogram: count, sum (seconds),
-- nearest-rank p50/p95/p99 (seconds, null when empty) and the cumulative Prometheus
-- buckets (le in seconds, the last one "+Inf").
create or replace function collab.metrics_latency(histogram jsonb)
returns jsonb
language sql
immutable
parallel safe
set search_path = ''
as $$
  with h as (
    select e.key::bigint as v, e.value::bigint as c
      from jsonb_each_text(coalesce(metrics_latency.histogram, '{}'::jsonb)) e
  )
  select jsonb_build_object(
    'count', (select coalesce(sum(h.c), 0)::bigint from h),
    'sum_seconds', (select (coalesce(sum(h.v * h.c), 0) / 1000.0)::double precision from h),
    'p50', collab.metrics_percentile(metrics_latency.histogram, 0.5),
    'p95', collab.metrics_percentile(metrics_latency.histogram, 0.95),
    'p99', collab.metrics_percentile(metrics_latency.histogram, 0.99),
    'buckets', (select jsonb_agg(jsonb_build_array(
                         case when b.le = 'Infinity'::numeric then '+Inf' else b.le::text end,
                         (select coalesce(sum(h.c), 0)::bigint from h where h.v <= b.le * 1000))
                       order by b.le)
                  from unnest('{0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10,30,60,300,900,3600,Infinity}'::numeric[]) b(le)))
$$;
comment on function collab.metrics_latency(jsonb) is
  'Latency summary of a sparse millisecond histogram: count, sum_seconds, p50/p95/p99 (seconds) and cumulative buckets [[le, count], ...].';
