-- Create a workspace; a signed-in caller becomes its owner. Names are unique.
create or replace function api.create_workspace(name text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  ws collab.workspaces;
begin
  if not collab.is_service_caller() and uid is null then
    perform collab.raise_error('PT403', 'forbidden',
      'creating a workspace needs a signed-in user', null, null,
      jsonb_build_object('required_role', 'authenticated'));
  end if;
  if create_workspace.name is null or length(create_workspace.name) not between 1 and 200 then
    perform collab.raise_error('PT400', 'invalid_input', 'name must be 1-200 characters', 'name');
  end if;
  insert into collab.workspaces as w (name) values (create_workspace.name)
  on conflict on constraint workspaces_name_unique do nothing
  returning w.* into ws;
  if ws.id is null then
    perform collab.raise_error('PT409', 'workspace_exists',
      format('a workspace called %s already exists', quote_literal(create_workspace.name)), 'name',
      'choose another name');
  end if;
  if uid is not null then
    insert into collab.members (workspace_id, user_id, role) values (ws.id, uid, 'owner');
  end if;
  return jsonb_build_object('workspace_id', ws.id, 'name', ws.name,
                            'role', case when uid is null then null else 'owner' end);
end
$$;
comment on function api.create_workspace(text) is
  'Create a workspace called name (unique, 1-200 characters); the signed-in caller becomes its owner. Returns {workspace_id, name, role}. Name it in the workspace_id JWT claim to act in it.';
revoke all on function api.create_workspace(text) from public;
grant execute on function api.create_workspace(text) to authenticated, service_role;
