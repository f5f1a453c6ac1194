-- Append one row to the vault's audit log (collab.secret_audit); the actor is the caller's
-- user id, or the database role for service callers. PL/pgSQL: its insert is planned once per
-- session (a SQL function called from PL/pgSQL is parsed and planned in every transaction).
create or replace function collab.vault_audit(workspace_id uuid, name text, version integer, action text,
                                              outcome text, reason text default null)
returns void
language plpgsql
volatile
as $$
begin
  insert into collab.secret_audit (workspace_id, name, version, action, outcome, reason, actor, created_at)
  values (vault_audit.workspace_id, vault_audit.name, vault_audit.version, vault_audit.action,
          vault_audit.outcome, vault_audit.reason,
          coalesce(collab.caller_id()::text, pg_catalog.current_setting('role', true), 'none'),
          collab.clock());
end
$$;
comment on function collab.vault_audit(uuid, text, integer, text, text, text) is
  'Append one audit row (action, outcome ok/warned/denied, reason) for a secret; actor = caller''s user id or role.';
revoke all on function collab.vault_audit(uuid, text, integer, text, text, text) from public;
