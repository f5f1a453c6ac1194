-- The one place that decides which workspace a caller acts for.
-- * service callers (collab.is_service_caller()) may name any existing workspace in the
--   `workspace_id` claim; without one they act in the default workspace;
-- * an authenticated user acts in the workspace named by the claim only if collab.members
--   has them there (else PT403 workspace_forbidden); with no claim, in their only workspace
--   (PT400 invalid_workspace when they belong to several, PT403 when to none);
-- * anyone else (anon, a user without `sub`) is refused with PT403 forbidden.
create or replace function collab.current_workspace()
returns uuid
language plpgsql
stable
as $$
declare
  claimed text := nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'workspace_id';
  uid uuid;
  ws uuid;
  found_count integer;
begin
  if claimed is not null then
    begin
      ws := claimed::uuid;
    exception when invalid_text_representation then
      perform collab.raise_error('PT400', 'invalid_workspace',
        'the workspace_id claim is not a uuid', 'workspace_id');
    end;
  end if;
  if collab.is_service_caller() then
    if ws is null then
      return collab.default_workspace_id();
    end if;
    if not exists (select 1 from collab.workspaces w where w.id = ws) then
      perform collab.raise_error('PT403', 'workspace_forbidden',
        format('workspace %s does not exist or is not yours', ws), 'workspace_id');
    end if;
    return ws;
  end if;
  uid := auth.uid();
  if uid is null or coalesce(current_setting('role', true), 'none') = 'anon' then
    perform collab.raise_error('PT403', 'forbidden',
      'this call needs a signed-in user (a JWT with a sub claim)', null,
      'sign in and send the access token as Authorization: Bearer <jwt>',
      jsonb_build_object('required_role', 'viewer'));
  end if;
  if ws is not null then
    if not exists (select 1 from collab.members m where m.workspace_id = ws and m.user_id = uid) then
      perform collab.raise_error('PT403', 'workspace_forbidden',
        format('workspace %s does not exist or is not yours', ws), 'workspace_id',
        'ask an admin of that workspace to add you (api.add_member)');
    end if;
    return ws;
  end if;
  select min(m.workspace_id::text)::uuid, count(*) into ws, found_count
    from collab.members m where m.user_id = uid;
  if found_count = 0 then
    perform collab.raise_error('PT403', 'workspace_forbidden',
      'you are not a member of any workspace', 'workspace_id',
      'create one with api.create_workspace or ask an admin to add you');
  elsif found_count > 1 then
    perform collab.raise_error('PT400', 'invalid_workspace',
      format('you are a member of %s workspaces: name one in the workspace_id claim', found_count),
      'workspace_id', 'put the workspace id in the JWT''s workspace_id claim');
  end if;
  return ws;
end
$$;
comment on function collab.current_workspace() is
  'Workspace of the caller: service callers name any workspace by the workspace_id claim (default workspace without one); users only a workspace they are a member of (their only one without a claim).';
