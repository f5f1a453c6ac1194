-- Create a workspace; a signed-in caller becomes its owner. Names are unique. A user may own
-- at most the operator's workspaces_per_user (PT429 quota_exceeded); the service role is not
-- counted.
create or replace function api.create_workspace(name text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := collab.caller_id();
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
  -- Control characters and bidirectional overrides make a name display as another one.
  if create_workspace.name ~ E'[\\x01-\\x1f\\x7f-\\x9f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]'
     or create_workspace.name <> btrim(create_workspace.name) then
    perform collab.raise_error('PT400', 'invalid_input',
      'name must not hold control or bidirectional-override characters, nor start or end with a space', 'name');
  end if;
  if uid is not null then
    -- The operator's workspaces_per_user limit: the workspaces the caller owns. Calls of one
    -- user are serialized (a transaction lock on the user id) so that they count in turn.
    perform pg_advisory_xact_lock(hashtextextended('collab.create_workspace:' || uid::text, 0));
    perform collab.check_limit('workspaces_per_user',
      (select count(*) + 1 from collab.members m where m.user_id = uid and m.role = 'owner'),
      collab.workspace_limits(null), 'name');
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
  'Create a workspace called name (unique, 1-200 characters); the signed-in caller becomes its owner. Returns {workspace_id, name, role}. Name it in the workspace_id JWT claim to act in it. A user owning the operator''s workspaces_per_user limit (10 by default) gets PT429 quota_exceeded.';
revoke all on function api.create_workspace(text) from public;
grant execute on function api.create_workspace(text) to authenticated, service_role;
