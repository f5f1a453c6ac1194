-- Stores an artifact: the bytes once per workspace and sha256 (content-addressed), the
-- metadata as a new artifact, and, when it belongs to a job, an artifact_created event in the
-- job's stream. `data` is base64 (JSON carries no bytes): the ceiling is the workspace's
-- max_artifact_bytes (default 32 MiB, at most 64 MiB). A concurrent delete of the last
-- artifact of the same bytes cannot remove them under this one: the blob row is locked (its
-- upsert) before the artifact points at it, and delete locks it before it checks.
create or replace function api.put_artifact(
  name text,
  data text,
  media_type text default 'application/octet-stream',
  job_id bigint default null,
  metadata jsonb default '{}'
)
returns api.artifact
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz := collab.clock();
  bytes bytea;
  digest bytea;
  limit_artifact bigint := 33554432;
  limit_stored bigint := 10737418240;
  stored bigint;
  new_blob boolean;
  job jsonb;
  a collab.artifacts;
begin
  perform collab.check_artifact_name(put_artifact.name, 'name');
  if put_artifact.media_type is null or pg_catalog.length(put_artifact.media_type) > 255
     or put_artifact.media_type !~* '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*( *;.*)?$'
     or put_artifact.media_type !~ '^[\x20-\x7e]+$' then
    perform collab.raise_error('PT400', 'invalid_input',
      'media_type must be a media type like text/plain or application/json; charset=utf-8', 'media_type');
  end if;
  if put_artifact.metadata is not null and pg_catalog.jsonb_typeof(put_artifact.metadata) <> 'object' then
    perform collab.raise_error('PT400', 'invalid_input', 'metadata must be a JSON object', 'metadata');
  end if;
  if put_artifact.metadata is not null and pg_catalog.octet_length(put_artifact.metadata::text) > 65536 then
    perform collab.raise_error('PT400', 'invalid_input', 'metadata must be at most 64 KiB of JSON', 'metadata');
  end if;
  if put_artifact.data is null then
    perform collab.raise_error('PT400', 'invalid_input', 'data (the bytes, base64) is required', 'data');
  end if;
  select u.max_artifact_bytes, u.max_stored_bytes into limit_artifact, limit_stored
    from collab.artifact_usage u where u.workspace_id = ws;
  limit_artifact := coalesce(limit_artifact, 33554432);
  limit_stored := coalesce(limit_stored, 10737418240);
  -- Refuse an oversized body before decoding it (4 base64 characters carry 3 bytes).
  if pg_catalog.octet_length(put_artifact.data) / 4 * 3 > limit_artifact + 3 then
    perform collab.raise_error('PT413', 'artifact_too_large',
      format('the artifact is larger than the workspace''s limit of %s bytes', limit_artifact), 'data',
      'store it in parts, or ask an admin to raise max_artifact_bytes (api.configure_artifacts)',
      jsonb_build_object('limit', limit_artifact));
  end if;
  begin
    bytes := pg_catalog.decode(pg_catalog.translate(put_artifact.data, '-_', '+/'), 'base64');
  exception when others then
    perform collab.raise_error('PT400', 'invalid_input', 'data must be base64', 'data');
  end;
  if pg_catalog.octet_length(bytes) > limit_artifact then
    perform collab.raise_error('PT413', 'artifact_too_large',
      format('the artifact is %s bytes, more than the workspace''s limit of %s bytes',
             pg_catalog.octet_length(bytes), limit_artifact), 'data',
      'store it in parts, or ask an admin to raise max_artifact_bytes (api.configure_artifacts)',
      jsonb_build_object('limit', limit_artifact, 'size', pg_catalog.octet_length(bytes)));
  end if;
  if put_artifact.job_id is not null then
    job := api.get_job(put_artifact.job_id);  -- PT404 job_not_found outside the workspace
  end if;
  digest := pg_catalog.sha256(bytes);
  insert into collab.artifact_blobs as b (workspace_id, sha256, size, content, created_at)
  values (ws, digest, pg_catalog.octet_length(bytes), bytes, now_)
  on conflict (workspace_id, sha256) do update set size = excluded.size
  returning (b.xmax = 0) into new_blob;
  if new_blob then
    insert into collab.artifact_usage as u (workspace_id, stored_bytes)
    values (ws, pg_catalog.octet_length(bytes))
    on conflict (workspace_id) do update set stored_bytes = u.stored_bytes + excluded.stored_bytes
    returning u.stored_bytes into stored;
    if stored > limit_stored then
      perform collab.raise_error('PT413', 'storage_quota_exceeded',
        format('the workspace would store %s bytes of artifacts, more than its quota of %s bytes',
               stored, limit_stored), 'data',
        'delete artifacts you no longer need (api.delete_artifact), or ask an admin to raise max_stored_bytes',
        jsonb_build_object('limit', limit_stored, 'stored', stored - pg_catalog.octet_length(bytes)));
    end if;
  end if;
  insert into collab.artifacts as x (workspace_id, job_id, name, media_type, size, sha256, metadata,
                                     created_by, created_at)
  values (ws, put_artifact.job_id, put_artifact.name, put_artifact.media_type,
          pg_catalog.octet_length(bytes), digest, coalesce(put_artifact.metadata, '{}'::jsonb),
          collab.caller_id(), now_)
  returning x.* into a;
  if job is not null then
    insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, executor_id, data, created_at)
    values (ws, a.job_id, 'artifact_created', job ->> 'queue', job ->> 'type', (job ->> 'attempt')::integer,
            (job ->> 'executor_id')::uuid,
            jsonb_build_object('artifact_id', a.id, 'name', a.name, 'media_type', a.media_type,
                               'size', a.size, 'sha256', pg_catalog.encode(a.sha256, 'hex')),
            now_);
    perform collab.notify_events(ws);
  end if;
  return collab.artifact_row(a);
end
$$;
comment on function api.put_artifact(text, text, text, bigint, jsonb) is
  'Stores an artifact (data: the bytes in base64, at most the workspace''s max_artifact_bytes, default 32 MiB) with its media type, optional job_id and metadata; the bytes are kept once per sha256. A job''s artifact adds an artifact_created event. Member role. PT413 artifact_too_large / storage_quota_exceeded.';
revoke all on function api.put_artifact(text, text, text, bigint, jsonb) from public;
grant execute on function api.put_artifact(text, text, text, bigint, jsonb) to authenticated, service_role;
