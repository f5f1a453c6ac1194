-- The routing series of a workspace for api.metrics_prometheus: per service and route of the
-- latest snapshot of each service (at most 100 services), its rank (0: excluded), latency
-- and cost estimates, error rate and whether it is cooling down. Bounded: one index probe
-- per service.
create or replace function collab.routing_prometheus(workspace_id uuid)
returns text[]
language sql
stable
as $$
  with latest as (
    select s.service, s.candidates
      from (select distinct r.service from collab.routes r
             where r.workspace_id = routing_prometheus.workspace_id order by r.service limit 100) v
      cross join lateral (select x.service, x.candidates from collab.routing_snapshots x
                           where x.workspace_id = routing_prometheus.workspace_id and x.service = v.service
                           order by x.id desc limit 1) s
  ), c as (
    select l.service, e ->> 'route' as route, e
      from latest l cross join lateral jsonb_array_elements(l.candidates) e
  ), m(name, help, ord) as (values
    ('rank', 'Rank of the route in the latest snapshot of its service (0: excluded).', 1),
    ('latency_ms', 'Latency estimate of the route (mean of its recent window), in milliseconds.', 2),
    ('cost_estimate_usd', 'Estimated cost of the latest ranked request on the route, in USD.', 3),
    ('error_rate', 'Failed share of the route''s calls in the error window.', 4),
    ('cooldown', 'Whether the route was cooling down at the latest snapshot (1) or not (0).', 5))
  select coalesce(array_agg(line order by m_ord, sub, service, route), '{}')
    from (
      select m.ord as m_ord, 0 as sub, '' as service, '' as route,
             format('# HELP collab_routing_route_%s %s', m.name, m.help) as line from m
      union all
      select m.ord, 1, '', '', format('# TYPE collab_routing_route_%s gauge', m.name) from m
      union all
      select m.ord, 2, c.service, c.route,
             format('collab_routing_route_%s{service="%s",route="%s"} %s', m.name,
                    collab.metrics_label(c.service), collab.metrics_label(c.route),
                    case m.name
                      when 'rank' then coalesce(c.e ->> 'rank', '0')
                      when 'latency_ms' then coalesce(c.e ->> 'latency_ms', '0')
                      when 'cost_estimate_usd' then coalesce(c.e ->> 'cost_estimate', '0')
                      when 'error_rate' then coalesce(c.e ->> 'error_rate', '0')
                      else case when c.e ->> 'excluded_reason' = 'cooldown' then '1' else '0' end
                    end)
        from m cross join c
       where exists (select 1 from c)) x
   where x.sub < 2 and exists (select 1 from c) or x.sub = 2
$$;
comment on function collab.routing_prometheus(uuid) is
  'Prometheus lines (collab_routing_route_{rank,latency_ms,cost_estimate_usd,error_rate,cooldown}{service,route}) from the latest snapshot of each service of the workspace; empty when none.';
