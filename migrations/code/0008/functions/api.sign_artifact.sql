-- A download URL in Supabase Storage's shape for an artifact the caller can read:
-- signedURL is relative to <SUPABASE_URL>/storage/v1, as Storage's POST /object/sign answers
-- (storage-js prefixes it and applies encodeURI). The token is an HS256 JWT
-- {url: "artifacts/<path>", scope: "download", iat, exp} (collab.sign_url).
create or replace function api.sign_artifact(id bigint, expires_in integer default 3600)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  a collab.artifacts;
  path text;
  token text;
begin
  if sign_artifact.expires_in is null or sign_artifact.expires_in not between 1 and 604800 then
    perform collab.raise_error('PT400', 'invalid_input',
      'expires_in must be between 1 and 604800 seconds (7 days)', 'expires_in');
  end if;
  select * into a from collab.artifacts x where x.workspace_id = ws and x.id = sign_artifact.id;
  if not found then
    perform collab.raise_error('PT404', 'artifact_not_found',
      format('artifact %s not found', sign_artifact.id), 'id');
  end if;
  path := collab.artifact_path(a);
  token := collab.sign_url('artifacts/' || path, sign_artifact.expires_in);
  return jsonb_build_object(
    'signedURL', '/object/sign/artifacts/' || path || '?token=' || token,
    'bucket', 'artifacts',
    'path', path,
    'token', token,
    'expires_at', collab.clock() + pg_catalog.make_interval(secs => sign_artifact.expires_in),
    'artifact', pg_catalog.to_jsonb(collab.artifact_row(a)));
end
$$;
comment on function api.sign_artifact(bigint, integer) is
  'A signed download URL for an artifact (Supabase Storage''s shape: signedURL relative to /storage/v1, valid expires_in seconds, 1-604800, default 3600), plus its token, path and metadata. Viewer role. PT404 artifact_not_found.';
revoke all on function api.sign_artifact(bigint, integer) from public;
grant execute on function api.sign_artifact(bigint, integer) to authenticated, service_role;
