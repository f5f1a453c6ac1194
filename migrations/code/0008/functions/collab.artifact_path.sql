-- The Storage path of an artifact, as signed URLs carry it: <workspace_id>/<id>/<name>
-- in the bucket `artifacts` (the url claim is artifacts/<path>).
create or replace function collab.artifact_path(a collab.artifacts)
returns text
language sql
immutable
parallel safe
as $$
  select a.workspace_id::text || '/' || a.id::text || '/' || a.name
$$;
comment on function collab.artifact_path(collab.artifacts) is
  'The object path of an artifact in the bucket artifacts: <workspace_id>/<id>/<name>.';
