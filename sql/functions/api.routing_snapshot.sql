-- The latest routing snapshot of a service (viewer): what /api/metrics/routing?service=
-- shows. The shape of api.rank_routes' answer, candidates in rank order (excluded last);
-- PT404 snapshot_not_found when the service was never ranked.
create or replace function api.routing_snapshot(service text)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  snap collab.routing_snapshots;
begin
  perform collab.check_name('service', routing_snapshot.service);
  select * into snap from collab.routing_snapshots s
   where s.workspace_id = ws and s.service = routing_snapshot.service
   order by s.id desc
   limit 1;
  if not found then
    perform collab.raise_error('PT404', 'snapshot_not_found',
      format('service %s has no routing snapshot yet (api.rank_routes writes one)', routing_snapshot.service), 'service');
  end if;
  return jsonb_build_object('snapshot_id', snap.id, 'service', snap.service, 'strategy', snap.strategy,
                            'mode', snap.mode, 'chosen', snap.chosen, 'created_at', snap.created_at,
                            'request', snap.request, 'candidates', snap.candidates);
end
$$;
comment on function api.routing_snapshot(text) is
  'Viewer. The latest routing snapshot of a service ({snapshot_id, service, strategy, mode, chosen, created_at, request, candidates in rank order}); PT404 snapshot_not_found before the first api.rank_routes.';
revoke all on function api.routing_snapshot(text) from public;
grant execute on function api.routing_snapshot(text) to authenticated, service_role;
