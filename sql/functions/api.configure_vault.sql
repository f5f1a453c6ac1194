-- The vault settings of the workspace (service role only); a null argument keeps a setting.
-- mode: production (expired, missing or tampered keys refused and never ranked) or
-- development (an expired key is read with a warning; routes rank without a valid key);
-- max_versions 1-100 (default 10); recovery_days 7-30 (default 30).
create or replace function api.configure_vault(mode text default null, max_versions integer default null,
                                               recovery_days integer default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.vault_service_workspace();
  cur collab.vault_settings := collab.vault_settings_of(ws);
begin
  if configure_vault.mode is not null and configure_vault.mode not in ('production', 'development') then
    perform collab.raise_error('PT400', 'invalid_input', 'mode must be production or development', 'mode');
  end if;
  if configure_vault.max_versions is not null and configure_vault.max_versions not between 1 and 100 then
    perform collab.raise_error('PT400', 'invalid_input', 'max_versions must be between 1 and 100', 'max_versions');
  end if;
  if configure_vault.recovery_days is not null and configure_vault.recovery_days not between 7 and 30 then
    perform collab.raise_error('PT400', 'invalid_input', 'recovery_days must be between 7 and 30', 'recovery_days');
  end if;
  insert into collab.vault_settings (workspace_id, mode, max_versions, recovery_days, updated_at)
  values (ws, coalesce(configure_vault.mode, cur.mode), coalesce(configure_vault.max_versions, cur.max_versions),
          coalesce(configure_vault.recovery_days, cur.recovery_days), collab.clock())
  on conflict on constraint vault_settings_pkey do update
    set mode = excluded.mode, max_versions = excluded.max_versions, recovery_days = excluded.recovery_days,
        updated_at = excluded.updated_at
  returning * into cur;
  return jsonb_build_object('mode', cur.mode, 'max_versions', cur.max_versions, 'recovery_days', cur.recovery_days);
end
$$;
comment on function api.configure_vault(text, integer, integer) is
  'Service role only. Vault settings of the workspace: mode (production/development), max_versions (1-100), recovery_days (7-30); null keeps a setting.';
revoke all on function api.configure_vault(text, integer, integer) from public;
grant execute on function api.configure_vault(text, integer, integer) to service_role;
