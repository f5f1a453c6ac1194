-- The routes of the workspace (viewer), of one service or all, by service and name, with
-- the strategy of each service.
create or replace function api.list_routes(service text default null)
returns setof jsonb
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.require_role('viewer');
  select (to_jsonb(r) - 'workspace_id')
         || jsonb_build_object('strategy', collab.routing_settings(r.workspace_id, r.service) ->> 'strategy')
    from collab.routes r
   where r.workspace_id = collab.current_workspace()
     and (list_routes.service is null or r.service = list_routes.service)
   order by r.service, r.name
   limit 10000
$$;
comment on function api.list_routes(text) is
  'Viewer. The routes of the workspace (or of one service) with their service''s strategy, by service and name.';
revoke all on function api.list_routes(text) from public;
grant execute on function api.list_routes(text) to authenticated, service_role;
