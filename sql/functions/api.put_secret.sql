-- Store a secret (service role only): a new version, encrypted with pgcrypto (aes256, keys
-- derived from the master key), labelled current; the version current before becomes
-- previous (a reader always finds a current version, before and after: a rotation). The
-- first version is audited as a write, later ones as a rotation. `cas` is check-and-set:
-- 0 writes only if the secret does not exist, n only if its latest version is n (else PT409
-- version_conflict). Versions beyond max_versions (api.configure_vault) are destroyed.
-- Send the value as a bind parameter (the Python client does): a literal would land in
-- pg_stat_statements' and the server log's statement texts.
create or replace function api.put_secret(name text, value text, expires_at timestamptz default null,
                                          cas integer default null, description text default null)
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
  k record;
  v integer;
  ct bytea;
begin
  perform collab.check_name('name', put_secret.name);
  if put_secret.value is null or length(put_secret.value) not between 1 and 65536 then
    perform collab.raise_error('PT400', 'invalid_input', 'value must be 1-65536 characters', 'value');
  end if;
  if put_secret.expires_at is not null and put_secret.expires_at <= now_ then
    perform collab.raise_error('PT400', 'invalid_input', 'expires_at must be in the future', 'expires_at');
  end if;
  if put_secret.cas is not null and put_secret.cas < 0 then
    perform collab.raise_error('PT400', 'invalid_input', 'cas must be 0 (create only) or the latest version', 'cas');
  end if;
  if length(put_secret.description) > 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'description must be at most 1000 characters', 'description');
  end if;
  select * into k from collab.vault_keys() kk where kk.slot = 'current';
  if not found then
    perform collab.raise_error('PT409', 'vault_key_unavailable', 'no master key is installed: cannot encrypt',
      null, 'install the master key (docs/vault.md)');
  end if;
  insert into collab.secrets (workspace_id, name, description, created_at, updated_at)
  values (ws, put_secret.name, put_secret.description, now_, now_)
  on conflict do nothing;
  select * into s from collab.secrets x where x.workspace_id = ws and x.name = put_secret.name for update;
  if s.deleted_at is not null then
    perform collab.raise_error('PT410', 'secret_deleted',
      format('secret %s is deleted: restore it (api.restore_secret) or destroy it first', put_secret.name), 'name');
  end if;
  if put_secret.cas is not null and put_secret.cas <> s.version then
    perform collab.raise_error('PT409', 'version_conflict',
      format('check-and-set failed: secret %s is at version %s, not %s', put_secret.name, s.version, put_secret.cas),
      'cas', 'read the latest version and retry with it', jsonb_build_object('version', s.version));
  end if;
  v := s.version + 1;
  ct := extensions.pgp_sym_encrypt(put_secret.value, k.enc_key, 'cipher-algo=aes256, s2k-mode=1');
  update collab.secret_versions x set label = null
   where x.workspace_id = ws and x.name = put_secret.name and x.label = 'previous';
  update collab.secret_versions x set label = 'previous'
   where x.workspace_id = ws and x.name = put_secret.name and x.label = 'current';
  insert into collab.secret_versions (workspace_id, name, version, label, ciphertext, ciphertext_mac, checksum,
                                      key_fingerprint, expires_at, created_at, created_by)
  values (ws, put_secret.name, v, 'current', ct,
          extensions.hmac(collab.vault_mac_input(ws, put_secret.name, v, ct), k.mac_key, 'sha256'),
          extensions.hmac(collab.vault_mac_input(ws, put_secret.name, v, pg_catalog.convert_to(put_secret.value, 'UTF8')),
                          k.mac_key, 'sha256'),
          k.fingerprint, put_secret.expires_at, now_,
          coalesce(collab.caller_id()::text, pg_catalog.current_setting('role', true), 'none'));
  delete from collab.secret_versions x
   where x.workspace_id = ws and x.name = put_secret.name and x.label is null
     and x.version <= v - settings.max_versions;
  update collab.secrets x set version = v, updated_at = now_,
         description = coalesce(put_secret.description, x.description)
   where x.workspace_id = ws and x.name = put_secret.name;
  perform collab.vault_audit(ws, put_secret.name, v, case when v = 1 then 'write' else 'rotate' end, 'ok');
  return jsonb_build_object('name', put_secret.name, 'version', v, 'label', 'current',
                            'expires_at', put_secret.expires_at, 'created', v = 1);
end
$$;
comment on function api.put_secret(text, text, timestamptz, integer, text) is
  'Service role only. Store a new version of a secret (aes256; MAC and keyed checksum), labelled current, the former current becoming previous; cas: 0 = create only, n = only if the latest version is n (PT409 version_conflict). Audited as write (first version) or rotate.';
revoke all on function api.put_secret(text, text, timestamptz, integer, text) from public;
grant execute on function api.put_secret(text, text, timestamptz, integer, text) to service_role;
