-- Undo a soft delete within the recovery window (service role only): PT409
-- secret_not_deleted when it is not deleted, PT410 recovery_window_passed after the window.
create or replace function api.restore_secret(name text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.vault_service_workspace();
  s collab.secrets;
begin
  perform collab.check_name('name', restore_secret.name);
  select * into s from collab.secrets x where x.workspace_id = ws and x.name = restore_secret.name for update;
  if not found then
    perform collab.raise_error('PT404', 'secret_not_found', format('no secret %s', restore_secret.name), 'name');
  end if;
  if s.deleted_at is null then
    perform collab.raise_error('PT409', 'secret_not_deleted', format('secret %s is not deleted', restore_secret.name), 'name');
  end if;
  if s.recoverable_until < collab.clock() then
    perform collab.raise_error('PT410', 'recovery_window_passed',
      format('secret %s was deleted at %s; its recovery window ended at %s', restore_secret.name, s.deleted_at,
             s.recoverable_until), 'name', 'destroy it (api.delete_secret(destroy => true)) and store it again');
  end if;
  update collab.secrets x set deleted_at = null, recoverable_until = null, updated_at = collab.clock()
   where x.workspace_id = ws and x.name = restore_secret.name;
  perform collab.vault_audit(ws, restore_secret.name, s.version, 'restore', 'ok');
  return jsonb_build_object('name', restore_secret.name, 'version', s.version, 'restored', true);
end
$$;
comment on function api.restore_secret(text) is
  'Service role only. Undo a soft delete within its recovery window (PT409 secret_not_deleted, PT410 recovery_window_passed). Audited.';
revoke all on function api.restore_secret(text) from public;
grant execute on function api.restore_secret(text) to service_role;
