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
    select r.queue, r.job_type, p.phase, e.key, e.value::bigint as n
      from r
     cross join lateral (values ('queue_wait', r.queue_wait_ms), ('run_time', r.run_time_ms),
                                ('end_to_end', r.end_to_end_ms)) p(phase, histogram)
     cross join lateral jsonb_each_text(p.histogram) e
  ),
  hs as (
    select h.queue, h.job_type, grouping(h.queue, h.job_type) as total, h.phase, h.key, sum(h.n) as n
      from h
     group by grouping sets ((h.queue, h.job_type, h.phase, h.key), (h.phase, h.key))
  ),
  l as (
    select c.queue, c.job_type, c.total, c.counters,
           jsonb_build_object(
             'queue_wait', collab.metrics_latency((select jsonb_object_agg(hs.key, hs.n) from hs
                where hs.total = c.total and hs.phase = 'queue_wait'
                  and hs.queue is not distinct from c.queue and hs.job_type is not distinct from c.job_type)),
             'run_time', collab.metrics_latency((select jsonb_object_agg(hs.key, hs.n) from hs
                where hs.total = c.total and hs.phase = 'run_time'
                  and hs.queue is not distinct from c.queue and hs.job_type is not distinct from c.job_type)),
             'end_to_end', collab.metrics_latency((select jsonb_object_agg(hs.key, hs.n) from hs
                where hs.total = c.total and hs.phase = 'end_to_end'
                  and hs.queue is not distinct from c.queue and hs.job_type is not distinct from c.job_type))
           ) as latency
      from c
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
