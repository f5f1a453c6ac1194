-- Counters and latencies of one workspace over the minutes from `since` (optionally one
-- queue), per queue and job type and in total: the rolled-up minutes plus, read live, every
-- event above the rollup horizon. One statement, so one snapshot: a concurrent rollup can
-- neither hide nor double an event.
create or replace function collab.metrics_window(workspace_id uuid, since timestamptz, queue text default null)
returns jsonb
language sql
stable
set jit = off  -- small, frequent queries: compiling them costs more than it saves
as $$
  with st as (
    select (select s.horizon from collab.metrics_rollup_state s limit 1) as horizon
  ),
  r as (
    select m.* from collab.metrics_minutely m
     where m.workspace_id = metrics_window.workspace_id and m.minute >= metrics_window.since
       and (metrics_window.queue is null or m.queue = metrics_window.queue)
    union all
    select f.* from st cross join lateral
      collab.metrics_facts(st.horizon, null, metrics_window.workspace_id, metrics_window.since,
                           metrics_window.queue) f
  ),
  c as (
    select r.queue, r.job_type, grouping(r.queue, r.job_type) as total,
           jsonb_build_object(
             'enqueued', sum(r.enqueued), 'claims', sum(r.claims),
             'claim_conflicts', sum(r.claim_conflicts), 'lease_expirations', sum(r.lease_expirations),
             'lease_releases', sum(r.lease_releases), 'retries', sum(r.retries),
             'failed', sum(r.failed), 'dead', sum(r.dead), 'completed', sum(r.completed),
             'cancelled', sum(r.cancelled), 'requeued', sum(r.requeued),
             'idempotent_duplicates', sum(r.idempotent_duplicates),
             'fencing_rejections', sum(r.fencing_rejections)) as counters
      from r
     group by grouping sets ((r.queue, r.job_type), ())
  ),
  h as (
    select r.queue, r.job_type, p.phase, e.key::bigint as v, e.value::bigint as n
      from r
     cross join lateral (values ('queue_wait', r.queue_wait_ms), ('run_time', r.run_time_ms),
                                ('end_to_end', r.end_to_end_ms)) p(phase, histogram)
     cross join lateral jsonb_each_text(p.histogram) e
  ),
  hs as (
    select h.queue, h.job_type, grouping(h.queue, h.job_type) as total, h.phase, h.v, sum(h.n)::bigint as n
      from h
     group by grouping sets ((h.queue, h.job_type, h.phase, h.v), (h.phase, h.v))
  ),
  -- collab.metrics_latency of every series' and phase's merged histogram, computed over all
  -- of them in one pass (a call per series and phase re-reads a jsonb each time and was most
  -- of a dashboard's time): the same count, sum, nearest-rank percentiles and cumulative
  -- buckets (tests/sql/301 checks the two agree).
  hc as (
    select hs.queue, hs.job_type, hs.total, hs.phase, hs.v, hs.n,
           sum(hs.n) over (partition by hs.queue, hs.job_type, hs.total, hs.phase order by hs.v) as cumulative,
           sum(hs.n) over (partition by hs.queue, hs.job_type, hs.total, hs.phase) as all_n
      from hs
  ),
  ha as (
    select hc.queue, hc.job_type, hc.total, hc.phase,
           sum(hc.n)::bigint as n,
           (sum(hc.v * hc.n) / 1000.0)::double precision as sum_seconds,
           (min(hc.v) filter (where hc.cumulative >= greatest(ceil(0.5 * hc.all_n), 1)) / 1000.0)::double precision as p50,
           (min(hc.v) filter (where hc.cumulative >= greatest(ceil(0.95 * hc.all_n), 1)) / 1000.0)::double precision as p95,
           (min(hc.v) filter (where hc.cumulative >= greatest(ceil(0.99 * hc.all_n), 1)) / 1000.0)::double precision as p99,
           array[coalesce(sum(hc.n) filter (where hc.v <= 5), 0), coalesce(sum(hc.n) filter (where hc.v <= 10), 0),
                 coalesce(sum(hc.n) filter (where hc.v <= 25), 0), coalesce(sum(hc.n) filter (where hc.v <= 50), 0),
                 coalesce(sum(hc.n) filter (where hc.v <= 100), 0), coalesce(sum(hc.n) filter (where hc.v <= 250), 0),
                 coalesce(sum(hc.n) filter (where hc.v <= 500), 0), coalesce(sum(hc.n) filter (where hc.v <= 1000), 0),
                 coalesce(sum(hc.n) filter (where hc.v <= 2500), 0), coalesce(sum(hc.n) filter (where hc.v <= 5000), 0),
                 coalesce(sum(hc.n) filter (where hc.v <= 10000), 0), coalesce(sum(hc.n) filter (where hc.v <= 30000), 0),
                 coalesce(sum(hc.n) filter (where hc.v <= 60000), 0), coalesce(sum(hc.n) filter (where hc.v <= 300000), 0),
                 coalesce(sum(hc.n) filter (where hc.v <= 900000), 0), coalesce(sum(hc.n) filter (where hc.v <= 3600000), 0),
                 sum(hc.n)]::bigint[] as buckets
      from hc
     group by hc.queue, hc.job_type, hc.total, hc.phase
  ),
  hl as (
    select ha.queue, ha.job_type, ha.total,
           jsonb_object_agg(ha.phase, jsonb_build_object(
             'count', ha.n, 'sum_seconds', ha.sum_seconds, 'p50', ha.p50, 'p95', ha.p95, 'p99', ha.p99,
             'buckets', (select jsonb_agg(jsonb_build_array(b.le, ha.buckets[b.i]) order by b.i)
                           from unnest('{0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10,30,60,300,900,3600,+Inf}'::text[])
                                with ordinality b(le, i)))) as phases
      from ha
     group by ha.queue, ha.job_type, ha.total
  ),
  l as (
    select c.queue, c.job_type, c.total, c.counters,
           jsonb_build_object(
             'queue_wait', coalesce(hl.phases -> 'queue_wait', collab.metrics_latency('{}')),
             'run_time', coalesce(hl.phases -> 'run_time', collab.metrics_latency('{}')),
             'end_to_end', coalesce(hl.phases -> 'end_to_end', collab.metrics_latency('{}'))
           ) as latency
      from c
      left join hl on hl.total = c.total and hl.queue is not distinct from c.queue
                  and hl.job_type is not distinct from c.job_type
  )
  select jsonb_build_object(
    'totals', coalesce(
      (select jsonb_build_object('counters', l.counters, 'latency', l.latency) from l where l.total = 3 and exists (select 1 from r)),
      jsonb_build_object(
        'counters', jsonb_build_object('enqueued', 0, 'claims', 0, 'claim_conflicts', 0,
          'lease_expirations', 0, 'lease_releases', 0, 'retries', 0, 'failed', 0, 'dead', 0,
          'completed', 0, 'cancelled', 0, 'requeued', 0, 'idempotent_duplicates', 0,
          'fencing_rejections', 0),
        'latency', jsonb_build_object('queue_wait', collab.metrics_latency('{}'),
          'run_time', collab.metrics_latency('{}'), 'end_to_end', collab.metrics_latency('{}')))),
    'by_queue_type', coalesce(
      (select jsonb_agg(jsonb_build_object('queue', l.queue, 'type', l.job_type,
                                           'counters', l.counters, 'latency', l.latency)
                        order by l.queue, l.job_type)
         from l where l.total = 0), '[]'::jsonb))
$$;
comment on function collab.metrics_window(uuid, timestamptz, text) is
  'Counters and phase latencies of a workspace since a minute, per queue and job type and in total (rollups plus live events).';
