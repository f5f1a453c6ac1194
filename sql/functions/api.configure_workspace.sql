-- Quotas of the caller's workspace (admin): a null argument keeps the current value.
create or replace function api.configure_workspace(max_payload_bytes integer default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.require_role('admin');
  w collab.workspaces;
begin
  if configure_workspace.max_payload_bytes is not null
     and configure_workspace.max_payload_bytes not between 2 and 104857600 then
    perform collab.raise_error('PT400', 'invalid_input',
      'max_payload_bytes must be between 2 and 104857600 (100 MiB)', 'max_payload_bytes');
  end if;
  update collab.workspaces x
     set max_payload_bytes = coalesce(configure_workspace.max_payload_bytes, x.max_payload_bytes)
   where x.id = ws
  returning x.* into w;
  return jsonb_build_object('workspace_id', w.id, 'name', w.name, 'max_payload_bytes', w.max_payload_bytes);
end
$$;
comment on function api.configure_workspace(integer) is
  'Quotas of the caller''s workspace (admin). max_payload_bytes: largest job payload enqueue accepts (JSON text bytes, 2 B-100 MiB, default 1 MiB); null keeps the current value. Returns the workspace''s settings.';
revoke all on function api.configure_workspace(integer) from public;
grant execute on function api.configure_workspace(integer) to authenticated, service_role;
