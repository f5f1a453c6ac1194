-- Text artifacts are searchable (issue 16): the insert statement trigger of collab.artifacts
-- calls this. New artifacts whose media type is text (text/*, JSON, XML, YAML, JavaScript, SQL and
-- their +json/+xml kinds), of at most 512 KiB and valid UTF-8, are indexed into the
-- collection `artifacts` of their workspace in the same transaction: key `artifact:<id>`,
-- title the last segment of the name, path the name, body the text, metadata the artifact's
-- metadata with artifact_id, job_id, media_type and sha256 (deleted ones leave the index:
-- collab.search_artifacts_deleted).
create or replace function collab.search_artifacts_inserted()
returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid;
  docs jsonb;
begin
  for ws in select distinct n.workspace_id from new_rows n loop
    select jsonb_agg(jsonb_build_object(
             'key', 'artifact:' || n.id,
             'title', left(regexp_replace(n.name, '^.*/', ''), 1000),
             'path', left(n.name, 1000),
             'body', t.body,
             'metadata', n.metadata || jsonb_build_object('artifact_id', n.id, 'job_id', n.job_id,
                                                          'media_type', n.media_type,
                                                          'sha256', encode(n.sha256, 'hex'))))
      into docs
      from new_rows n
      join collab.artifact_blobs b on b.workspace_id = n.workspace_id and b.sha256 = n.sha256
     cross join lateral (
       -- only text of at most 512 KiB is decoded at all
       select case when n.size <= 524288
                    and lower(n.media_type) ~ '^(text/|application/(json|xml|yaml|x-yaml|javascript|sql|x-sh|toml|x-python)\y|[a-z0-9.-]+/[^;]*\+(json|xml)\y)'
                   then collab.search_text(b.content) end as body
     ) t
     where n.workspace_id = ws and t.body is not null;
    if docs is not null then
      perform collab.search_index(ws, 'artifacts', docs);
    end if;
  end loop;
  return null;
end
$$;
comment on function collab.search_artifacts_inserted() is
  'Insert statement trigger function of collab.artifacts: indexes new text artifacts (at most 512 KiB, valid UTF-8) into the search collection "artifacts" of their workspace.';
revoke all on function collab.search_artifacts_inserted() from public;
