-- Deletes an artifact; its bytes go with the last artifact that points at them (the blob row
-- is locked first, so a concurrent api.put_artifact of the same bytes either commits before,
-- and is seen, or waits and stores them again). Member role.
create or replace function api.delete_artifact(id bigint)
returns api.artifact
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  a collab.artifacts;
  freed bigint;
begin
  delete from collab.artifacts x where x.workspace_id = ws and x.id = delete_artifact.id
  returning x.* into a;
  if not found then
    perform collab.raise_error('PT404', 'artifact_not_found',
      format('artifact %s not found', delete_artifact.id), 'id');
  end if;
  perform 1 from collab.artifact_blobs b where b.workspace_id = ws and b.sha256 = a.sha256 for update;
  delete from collab.artifact_blobs b
   where b.workspace_id = ws and b.sha256 = a.sha256
     and not exists (select 1 from collab.artifacts x where x.workspace_id = ws and x.sha256 = a.sha256)
  returning b.size into freed;
  if freed is not null then
    update collab.artifact_usage u set stored_bytes = greatest(u.stored_bytes - freed, 0)
     where u.workspace_id = ws;
  end if;
  return collab.artifact_row(a);
end
$$;
comment on function api.delete_artifact(bigint) is
  'Deletes an artifact (its bytes too when no other artifact has them) and returns it; PT404 artifact_not_found. Member role.';
revoke all on function api.delete_artifact(bigint) from public;
grant execute on function api.delete_artifact(bigint) to authenticated, service_role;
