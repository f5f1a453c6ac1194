-- An artifact as the api returns it (sha256 in hex).
create or replace function collab.artifact_row(a collab.artifacts)
returns api.artifact
language sql
stable
parallel safe
as $$
  select row(a.id, a.job_id, a.name, a.media_type, a.size, pg_catalog.encode(a.sha256, 'hex'),
             a.metadata, a.created_by, a.created_at)::api.artifact
$$;
comment on function collab.artifact_row(collab.artifacts) is 'Converts a collab.artifacts row to api.artifact.';
