-- Delete a secret (service role only). By default a soft delete: reads are refused
-- (secret_deleted) until api.restore_secret, which is possible for recovery_days
-- (api.configure_vault, 7-30, default 30). destroy => true removes every version at once,
-- irreversibly (also of a soft-deleted secret). Audited as delete or destroy.
create or replace function api.delete_secret(name text, destroy boolean default false)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.vault_service_workspace();
  settings collab.vault_settings := collab.vault_settings_of(ws);
  now_ timestamptz := collab.clock();
  s collab.secrets;
begin
  perform collab.check_name('name', delete_secret.name);
  select * into s from collab.secrets x where x.workspace_id = ws and x.name = delete_secret.name for update;
  if not found then
    perform collab.raise_error('PT404', 'secret_not_found', format('no secret %s', delete_secret.name), 'name');
  end if;
  if coalesce(delete_secret.destroy, false) then
    delete from collab.secrets x where x.workspace_id = ws and x.name = delete_secret.name;
    perform collab.vault_audit(ws, delete_secret.name, s.version, 'destroy', 'ok');
    return jsonb_build_object('name', delete_secret.name, 'destroyed', true);
  end if;
  if s.deleted_at is null then
    update collab.secrets x set deleted_at = now_, recoverable_until = now_ + make_interval(days => settings.recovery_days),
           updated_at = now_
     where x.workspace_id = ws and x.name = delete_secret.name
    returning * into s;
    perform collab.vault_audit(ws, delete_secret.name, s.version, 'delete', 'ok');
  end if;
  return jsonb_build_object('name', delete_secret.name, 'destroyed', false, 'deleted_at', s.deleted_at,
                            'recoverable_until', s.recoverable_until);
end
$$;
comment on function api.delete_secret(text, boolean) is
  'Service role only. Soft-delete a secret (reads refused until api.restore_secret, within recovery_days), or with destroy => true remove every version irreversibly. Audited.';
revoke all on function api.delete_secret(text, boolean) from public;
grant execute on function api.delete_secret(text, boolean) to service_role;
