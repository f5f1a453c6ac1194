-- Counters and latency histograms per workspace, queue, job type and minute, computed from
-- the job_events (and metrics_signals) written by transactions with from_xid <= xid < to_xid
-- (to_xid null: no upper bound), optionally only one workspace, queue, and minutes from
-- `since`. Stable: it reads in its caller's snapshot. Definitions: docs/metrics.md.
--   queue wait: claimed event time - run_at in effect (the run_at of the job's previous
--               event that carries one: enqueued, retry_scheduled, lease_*, requeued);
--   run time:   succeeded | retry_scheduled | dead event time - the claimed event of the
--               same attempt;
--   end to end: succeeded | dead event time - the job's enqueued event.
create or replace function collab.metrics_facts(
  from_xid xid8,
  to_xid xid8 default null,
  workspace_id uuid default null,
  since timestamptz default null,
  queue text default null
)
returns setof collab.metrics_minutely
rows 100
language plpgsql
stable
set jit = off  -- small, frequent queries: compiling them costs more than it saves
as $fn$
begin
  -- Dynamic, so every call is planned with its actual bounds: a plan made for an unknown
  -- horizon would scan every event instead of the few above it.
  return query execute $q$
      with ev as (
        select e.id, e.workspace_id, e.job_id, e.type::text as kind, e.queue, e.job_type,
               e.attempt, e.data, e.created_at
          from collab.job_events e
         where e.xid >= $1
           and ($2 is null or e.xid < $2)
           and e.job_id is not null
           and ($3 is null or e.workspace_id = $3)
           and ($4 is null or e.created_at >= $4)
           and ($5 is null or e.queue = $5)
      ),
      facts as (
        select ev.workspace_id, ev.queue, ev.job_type, date_trunc('minute', ev.created_at) as minute,
               ev.kind, 1::bigint as n,
               ev.data -> 'error' ->> 'reason' as reason,
               case when ev.kind = 'claimed' then collab.metrics_round_ms(extract(epoch from ev.created_at - (
                 select (p.data ->> 'run_at')::timestamptz from collab.job_events p
                  where p.job_id = ev.job_id and p.id < ev.id and p.data ? 'run_at'
                  order by p.id desc limit 1))::double precision) end as queue_wait,
               case when ev.kind in ('succeeded', 'retry_scheduled', 'dead') then collab.metrics_round_ms(extract(epoch from ev.created_at - (
                 select c.created_at from collab.job_events c
                  where c.job_id = ev.job_id and c.id < ev.id and c.type = 'claimed' and c.attempt = ev.attempt
                  order by c.id desc limit 1))::double precision) end as run_time,
               case when ev.kind in ('succeeded', 'dead') then collab.metrics_round_ms(extract(epoch from ev.created_at - (
                 select s.created_at from collab.job_events s
                  where s.job_id = ev.job_id and s.type = 'enqueued'
                  order by s.id limit 1))::double precision) end as end_to_end
          from ev
        union all
        select s.workspace_id, s.queue, s.job_type, date_trunc('minute', s.created_at), s.kind, s.count,
               null, null, null, null
          from collab.metrics_signals s
         where s.xid >= $1
           and ($2 is null or s.xid < $2)
           and ($3 is null or s.workspace_id = $3)
           and ($4 is null or s.created_at >= $4)
           and ($5 is null or s.queue = $5)
      )
      select f.workspace_id, f.queue, f.job_type, f.minute,
             coalesce(sum(f.n) filter (where f.kind = 'enqueued'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'claimed'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'claim_conflict'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'lease_expired'
                                          or (f.kind = 'dead' and f.reason = 'lease_expired')), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'lease_released'
                                          or (f.kind = 'dead' and f.reason = 'lease_released')), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'retry_scheduled'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind in ('retry_scheduled', 'lease_expired', 'lease_released', 'dead')), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'dead'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'succeeded'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'cancelled'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'requeued'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'idempotent_duplicate'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'fencing_rejection'), 0)::bigint,
             coalesce((select jsonb_object_agg(h.v, h.c) from (
                         select v, count(*) as c from unnest(array_agg(f.queue_wait)) v
                          where v is not null group by v) h), '{}'::jsonb),
             coalesce((select jsonb_object_agg(h.v, h.c) from (
                         select v, count(*) as c from unnest(array_agg(f.run_time)) v
                          where v is not null group by v) h), '{}'::jsonb),
             coalesce((select jsonb_object_agg(h.v, h.c) from (
                         select v, count(*) as c from unnest(array_agg(f.end_to_end)) v
                          where v is not null group by v) h), '{}'::jsonb)
        from facts f
       group by f.workspace_id, f.queue, f.job_type, f.minute
  $q$ using from_xid, to_xid, workspace_id, since, queue;
end
$fn$;
comment on function collab.metrics_facts(xid8, xid8, uuid, timestamptz, text) is
  'Per-minute metrics rows (as collab.metrics_minutely) computed from job_events and metrics_signals of transactions in [from_xid, to_xid).';
