-- The workspace's secrets without their values (service role only): name, description,
-- latest version, the current version's number and expiry, soft-delete state. At most
-- `limit` (1-1000) names after `after`.
create or replace function api.list_secrets("limit" integer default 100, after text default null)
returns table (name text, description text, version integer, current_version integer,
               expires_at timestamptz, deleted_at timestamptz, recoverable_until timestamptz,
               created_at timestamptz, updated_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.vault_service_workspace();
begin
  if list_secrets."limit" is null or list_secrets."limit" not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'limit must be between 1 and 1000', 'limit');
  end if;
  return query
    select s.name, s.description, s.version, v.version, v.expires_at, s.deleted_at, s.recoverable_until,
           s.created_at, s.updated_at
      from collab.secrets s
      left join collab.secret_versions v
        on v.workspace_id = s.workspace_id and v.name = s.name and v.label = 'current'
     where s.workspace_id = ws and (list_secrets.after is null or s.name > list_secrets.after)
     order by s.name
     limit list_secrets."limit";
end
$$;
comment on function api.list_secrets(integer, text) is
  'Service role only. Secrets of the workspace without values: latest version, current version and expiry, soft-delete state; limit (1-1000) names after `after`.';
revoke all on function api.list_secrets(integer, text) from public;
grant execute on function api.list_secrets(integer, text) to service_role;
