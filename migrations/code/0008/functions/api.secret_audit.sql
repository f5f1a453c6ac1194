-- The vault's audit log (service role only), newest first: every read, write, rotation,
-- delete, restore, destroy and denied read of the workspace, or of one secret (`name`). At
-- most `limit` (1-1000) rows with an id below `before` (the last id of the previous page).
create or replace function api.secret_audit(name text default null, "limit" integer default 100,
                                            before bigint default null)
returns table (id bigint, secret_name text, version integer, action text, outcome text, reason text,
               actor text, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.vault_service_workspace();
begin
  if secret_audit."limit" is null or secret_audit."limit" not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'limit must be between 1 and 1000', 'limit');
  end if;
  return query
    select a.id, a.name, a.version, a.action, a.outcome, a.reason, a.actor, a.created_at
      from collab.secret_audit a
     where a.workspace_id = ws
       and (secret_audit.name is null or a.name = secret_audit.name)
       and (secret_audit.before is null or a.id < secret_audit.before)
     order by a.id desc
     limit secret_audit."limit";
end
$$;
comment on function api.secret_audit(text, integer, bigint) is
  'Service role only. The vault audit log of the workspace (or of one secret), newest first: limit (1-1000) rows with id below `before`.';
revoke all on function api.secret_audit(text, integer, bigint) from public;
grant execute on function api.secret_audit(text, integer, bigint) to service_role;
