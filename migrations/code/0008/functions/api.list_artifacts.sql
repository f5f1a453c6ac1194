-- Artifacts of the workspace, newest first, filtered, with keyset pagination: pass the cursor
-- of the last row seen (`after`, opaque) to get the next page. Filters: job_id, a name prefix,
-- a media type (exact, or type/* for every subtype), a creation period.
create or replace function api.list_artifacts(
  job_id bigint default null,
  prefix text default null,
  media_type text default null,
  created_after timestamptz default null,
  created_before timestamptz default null,
  after text default null,
  "limit" integer default 100
)
returns table (artifact api.artifact, cursor text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  after_at timestamptz;
  after_id bigint;
  decoded text;
  type_prefix text;
begin
  if list_artifacts."limit" is null or list_artifacts."limit" not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'limit must be between 1 and 1000', 'limit');
  end if;
  if list_artifacts.prefix is not null and pg_catalog.length(list_artifacts.prefix) > 1024 then
    perform collab.raise_error('PT400', 'invalid_input', 'prefix must be at most 1024 characters', 'prefix');
  end if;
  if list_artifacts.media_type like '%/*' then
    type_prefix := pg_catalog.left(list_artifacts.media_type, -1);
  end if;
  if list_artifacts.after is not null then
    begin
      decoded := pg_catalog.convert_from(pg_catalog.decode(
        pg_catalog.translate(list_artifacts.after, '-_', '+/'), 'base64'), 'UTF8');
      after_at := pg_catalog.split_part(decoded, '|', 1)::timestamptz;
      after_id := pg_catalog.split_part(decoded, '|', 2)::bigint;
    exception when others then
      perform collab.raise_error('PT400', 'invalid_input',
        'after is not a cursor returned by list_artifacts', 'after');
    end;
  end if;
  return query
    select collab.artifact_row(a),
           pg_catalog.translate(pg_catalog.encode(pg_catalog.convert_to(
             a.created_at::text || '|' || a.id, 'UTF8'), 'base64'), E'+/\n', '-_')
      from collab.artifacts a
     where a.workspace_id = ws
       and (list_artifacts.job_id is null or a.job_id = list_artifacts.job_id)
       and (list_artifacts.prefix is null
            or pg_catalog.starts_with(a.name, list_artifacts.prefix))
       and (list_artifacts.media_type is null
            or (type_prefix is null and a.media_type = list_artifacts.media_type)
            or (type_prefix is not null and pg_catalog.starts_with(a.media_type, type_prefix)))
       and (list_artifacts.created_after is null or a.created_at >= list_artifacts.created_after)
       and (list_artifacts.created_before is null or a.created_at < list_artifacts.created_before)
       and (after_at is null or (a.created_at, a.id) < (after_at, after_id))
     order by a.created_at desc, a.id desc
     limit list_artifacts."limit";
end
$$;
comment on function api.list_artifacts(bigint, text, text, timestamptz, timestamptz, text, integer) is
  'List artifacts newest first with optional filters (job_id, name prefix, media_type exact or type/*, created_after, created_before). Pagination: pass the cursor of the last row as after. limit: 1-1000.';
revoke all on function api.list_artifacts(bigint, text, text, timestamptz, timestamptz, text, integer) from public;
grant execute on function api.list_artifacts(bigint, text, text, timestamptz, timestamptz, text, integer) to authenticated, service_role;
