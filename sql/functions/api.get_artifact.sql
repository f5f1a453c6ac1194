-- One artifact's metadata (not its bytes: sign it, then download the signed URL).
create or replace function api.get_artifact(id bigint)
returns api.artifact
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  a collab.artifacts;
begin
  select * into a from collab.artifacts x where x.workspace_id = ws and x.id = get_artifact.id;
  if not found then
    perform collab.raise_error('PT404', 'artifact_not_found',
      format('artifact %s not found', get_artifact.id), 'id');
  end if;
  return collab.artifact_row(a);
end
$$;
comment on function api.get_artifact(bigint) is
  'One artifact of the workspace (metadata; download its bytes through api.sign_artifact), or PT404 artifact_not_found.';
revoke all on function api.get_artifact(bigint) from public;
grant execute on function api.get_artifact(bigint) to authenticated, service_role;
