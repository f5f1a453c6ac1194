-- The one place that decides which workspace a caller acts for. Reads the JWT claims as
-- PostgREST sets them (claim `workspace_id`); without one, the default workspace.
create or replace function collab.current_workspace()
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  claimed text := nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'workspace_id';
  ws uuid;
begin
  if claimed is null then
    return collab.default_workspace_id();
  end if;
  begin
    ws := claimed::uuid;
  exception when invalid_text_representation then
    perform collab.raise_error('PT400', 'invalid_workspace',
      'the workspace_id claim is not a uuid', 'workspace_id');
  end;
  if not exists (select 1 from collab.workspaces w where w.id = ws) then
    perform collab.raise_error('PT403', 'workspace_forbidden',
      format('workspace %s does not exist or is not yours', ws), 'workspace_id');
  end if;
  return ws;
end
$$;
comment on function collab.current_workspace() is
  'Workspace of the caller, from the request JWT claims; the default workspace when none is named.';
