-- Whether the caller may receive a Supabase Realtime topic of Collab: `workspace:<id>:events`
-- of a workspace they are a member of (any role; the service role: any workspace). The
-- realtime.messages policy that collab.enable_realtime_broadcast ships calls it, so a private
-- channel carries a workspace's events to its members only.
create or replace function api.may_receive(topic text)
returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid;
begin
  if may_receive.topic is null
     or may_receive.topic !~ '^workspace:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:events$' then
    return false;
  end if;
  ws := split_part(may_receive.topic, ':', 2)::uuid;
  if collab.is_service_caller() then
    return exists (select 1 from collab.workspaces w where w.id = ws);
  end if;
  return exists (select 1 from collab.members m where m.workspace_id = ws and m.user_id = collab.caller_id());
end
$$;
comment on function api.may_receive(text) is
  'True when the caller may receive the Realtime topic: workspace:<workspace_id>:events of a workspace they belong to. Used by the realtime.messages policy.';
revoke all on function api.may_receive(text) from public;
grant execute on function api.may_receive(text) to authenticated, service_role;
