-- Redeems a signed URL: the bytes of the artifact at `path` (<bucket>/<workspace_id>/<id>/<name>,
-- the URL's path after /object/sign/) when `token` is a valid download token for exactly that
-- path (collab.verify_url_token). The service role only: the gateway's /storage/v1 route calls
-- it after checking the token itself (the token is checked here again). A byte
-- range (inclusive, as HTTP's Range): range_start alone reads to the end, range_end alone the
-- last range_end bytes. The artifact's size, media type, sha256 and the range served go to
-- PostgREST's response headers (X-Artifact-*), read by the gateway's /storage/v1 route.
create or replace function api.download_artifact(
  path text,
  token text,
  range_start bigint default null,
  range_end bigint default null
)
returns api."application/octet-stream"
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  parts text[];
  ws uuid;
  artifact_id bigint;
  a collab.artifacts;
  first_byte bigint;
  last_byte bigint;
begin
  perform collab.verify_url_token(download_artifact.token, download_artifact.path);
  parts := pg_catalog.regexp_match(download_artifact.path,
    '^artifacts/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/([0-9]{1,18})/(.+)$');
  if parts is null then
    perform collab.raise_error('PT404', 'artifact_not_found', 'Object not found', 'path');
  end if;
  ws := parts[1]::uuid;
  artifact_id := parts[2]::bigint;
  select * into a from collab.artifacts x
   where x.workspace_id = ws and x.id = artifact_id and x.name = parts[3];
  if not found then
    perform collab.raise_error('PT404', 'artifact_not_found', 'Object not found', 'path');
  end if;
  if download_artifact.range_start is null and download_artifact.range_end is null then
    first_byte := 0;
    last_byte := a.size - 1;
  elsif download_artifact.range_start is null then
    first_byte := greatest(a.size - download_artifact.range_end, 0);
    last_byte := a.size - 1;
    if download_artifact.range_end <= 0 then
      first_byte := a.size;
    end if;
  else
    first_byte := download_artifact.range_start;
    last_byte := least(coalesce(download_artifact.range_end, a.size - 1), a.size - 1);
    if download_artifact.range_start < 0 or download_artifact.range_end < download_artifact.range_start then
      perform collab.raise_error('PT400', 'invalid_input', 'the byte range is malformed', 'range_start');
    end if;
  end if;
  if (download_artifact.range_start is not null or download_artifact.range_end is not null)
     and first_byte >= a.size then
    perform collab.raise_error('PT416', 'range_not_satisfiable',
      format('the range starts past the end of the %s bytes of the object', a.size), 'range_start',
      null, jsonb_build_object('size', a.size));
  end if;
  perform pg_catalog.set_config('response.headers', pg_catalog.jsonb_build_array(
      jsonb_build_object('X-Artifact-Size', a.size::text),
      jsonb_build_object('X-Artifact-Type', a.media_type),
      jsonb_build_object('X-Artifact-Sha256', pg_catalog.encode(a.sha256, 'hex')),
      jsonb_build_object('X-Artifact-Range', first_byte::text || '-' || last_byte::text))::text,
    true);
  return (select substring(b.content from (first_byte + 1)::integer
                                      for greatest(last_byte - first_byte + 1, 0)::integer)
            from collab.artifact_blobs b where b.workspace_id = ws and b.sha256 = a.sha256)::api."application/octet-stream";
end
$$;
comment on function api.download_artifact(text, text, bigint, bigint) is
  'The bytes (or an inclusive byte range) of the artifact a signed URL names: path is <bucket>/<object path>, token the URL''s token, checked again here. Service role only (the gateway redeems signed URLs with it). PT400 invalid_token, PT404 artifact_not_found, PT416 range_not_satisfiable.';
revoke all on function api.download_artifact(text, text, bigint, bigint) from public;
grant execute on function api.download_artifact(text, text, bigint, bigint) to service_role;
