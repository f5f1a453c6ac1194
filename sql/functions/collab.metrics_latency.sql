-- One phase's latency summary from its sparse millisecond histogram: count, sum (seconds),
-- nearest-rank p50/p95/p99 (seconds, null when empty; the definition of
-- collab.metrics_percentile) and the cumulative Prometheus buckets (le in seconds, the last
-- one "+Inf"). One pass over the histogram's entries: a window for the running count, then
-- one aggregate for everything (a dashboard computes 3 phases x every queue and type).
create or replace function collab.metrics_latency(histogram jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  with x as (
    select h.v, h.c, sum(h.c) over (order by h.v) as cumulative, sum(h.c) over () as total
      from (select e.key::bigint as v, e.value::bigint as c
              from jsonb_each_text(coalesce(metrics_latency.histogram, '{}'::jsonb)) e) h
  ),
  s as (
    select coalesce(sum(x.c), 0)::bigint as n,
           (coalesce(sum(x.v * x.c), 0) / 1000.0)::double precision as sum_seconds,
           (min(x.v) filter (where x.cumulative >= greatest(ceil(0.5 * x.total), 1)) / 1000.0)::double precision as p50,
           (min(x.v) filter (where x.cumulative >= greatest(ceil(0.95 * x.total), 1)) / 1000.0)::double precision as p95,
           (min(x.v) filter (where x.cumulative >= greatest(ceil(0.99 * x.total), 1)) / 1000.0)::double precision as p99,
           -- cumulative counts at the bucket bounds (milliseconds) below, in the same order
           array[coalesce(sum(x.c) filter (where x.v <= 5), 0), coalesce(sum(x.c) filter (where x.v <= 10), 0),
                 coalesce(sum(x.c) filter (where x.v <= 25), 0), coalesce(sum(x.c) filter (where x.v <= 50), 0),
                 coalesce(sum(x.c) filter (where x.v <= 100), 0), coalesce(sum(x.c) filter (where x.v <= 250), 0),
                 coalesce(sum(x.c) filter (where x.v <= 500), 0), coalesce(sum(x.c) filter (where x.v <= 1000), 0),
                 coalesce(sum(x.c) filter (where x.v <= 2500), 0), coalesce(sum(x.c) filter (where x.v <= 5000), 0),
                 coalesce(sum(x.c) filter (where x.v <= 10000), 0), coalesce(sum(x.c) filter (where x.v <= 30000), 0),
                 coalesce(sum(x.c) filter (where x.v <= 60000), 0), coalesce(sum(x.c) filter (where x.v <= 300000), 0),
                 coalesce(sum(x.c) filter (where x.v <= 900000), 0), coalesce(sum(x.c) filter (where x.v <= 3600000), 0),
                 coalesce(sum(x.c), 0)]::bigint[] as cumulative
      from x
  )
  select jsonb_build_object(
    'count', s.n,
    'sum_seconds', s.sum_seconds,
    'p50', s.p50,
    'p95', s.p95,
    'p99', s.p99,
    'buckets', (select jsonb_agg(jsonb_build_array(b.le, s.cumulative[b.i]) order by b.i)
                  from unnest('{0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10,30,60,300,900,3600,+Inf}'::text[])
                       with ordinality b(le, i)))
    from s
$$;
comment on function collab.metrics_latency(jsonb) is
  'Latency summary of a sparse millisecond histogram: count, sum_seconds, p50/p95/p99 (seconds) and cumulative buckets [[le, count], ...].';
