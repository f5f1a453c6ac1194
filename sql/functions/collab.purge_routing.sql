-- Routing retention (operators, a scheduler; granted to no API role): deletes up to batch_size
-- routing snapshots and up to batch_size route outcomes created more than older_than ago (at
-- least 2 hours, the longest window a ranking reads: the error window and the counters),
-- oldest first, found through their created_at indexes, so each call reads only the rows it
-- deletes. Returns how many rows it deleted; call it until 0. Both tables are append-only,
-- written once for every routed call (api.rank_routes, api.record_route_outcome), and nothing
-- else deletes from them: without retention they grow with every call. A route whose samples
-- are all purged is explored again (docs/routing.md); an outcome recorded later for a purged
-- snapshot is refused (PT404 snapshot_not_found).
create or replace function collab.purge_routing(older_than interval default interval '7 days',
                                                batch_size integer default 10000)
returns bigint
language plpgsql
volatile
as $$
declare
  cutoff timestamptz;
  outcomes bigint;
  snapshots bigint;
begin
  if purge_routing.older_than is null or purge_routing.older_than < interval '2 hours' then
    perform collab.raise_error('PT400', 'invalid_input', 'older_than must be at least 2 hours', 'older_than');
  end if;
  if purge_routing.batch_size is null or purge_routing.batch_size not between 1 and 100000 then
    perform collab.raise_error('PT400', 'invalid_input', 'batch_size must be between 1 and 100000', 'batch_size');
  end if;
  cutoff := collab.clock() - purge_routing.older_than;
  with gone as (
    delete from collab.route_outcomes o
     where (o.workspace_id, o.id) in (
       select x.workspace_id, x.id from collab.route_outcomes x
        where x.created_at < cutoff order by x.created_at limit purge_routing.batch_size)
    returning 1)
  select count(*) into outcomes from gone;
  with gone as (
    delete from collab.routing_snapshots s
     where (s.workspace_id, s.id) in (
       select x.workspace_id, x.id from collab.routing_snapshots x
        where x.created_at < cutoff order by x.created_at limit purge_routing.batch_size)
    returning 1)
  select count(*) into snapshots from gone;
  return outcomes + snapshots;
end
$$;
comment on function collab.purge_routing(interval, integer) is
  'Routing retention: deletes up to batch_size routing snapshots and up to batch_size route outcomes created more than older_than (at least 2 hours) ago, oldest first. Returns how many; call again until 0. Granted to no API role.';
