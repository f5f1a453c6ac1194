-- Master key rotation, step 2 of docs/vault.md (service role only; every workspace): re-encrypt
-- up to `limit` (1-10000) secret versions still under the current master key with the next
-- one (collab_vault.next.key or Supabase Vault's collab_vault_master_key_next), verifying
-- each first. Readers are never refused meanwhile: each version records the fingerprint of
-- its key and both keys are available. Returns how many were rewrapped and remain; call it
-- until remaining is 0, then make the next key the current one. A version that fails its
-- check is left as it is and counted as failed.
create or replace function api.rewrap_secrets("limit" integer default 1000)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  cur record;
  nxt record;
  v record;
  o record;
  ct bytea;
  done integer := 0;
  failed integer := 0;
begin
  perform collab.vault_service_workspace();
  if rewrap_secrets."limit" is null or rewrap_secrets."limit" not between 1 and 10000 then
    perform collab.raise_error('PT400', 'invalid_input', 'limit must be between 1 and 10000', 'limit');
  end if;
  select * into cur from collab.vault_keys() k where k.slot = 'current';
  if found then
    select * into nxt from collab.vault_keys() k where k.slot = 'next';
  end if;
  if not found then
    perform collab.raise_error('PT409', 'vault_key_unavailable',
      'rewrapping needs both the current and the next master key', null, 'install the next master key (docs/vault.md)');
  end if;
  for v in
    select x.workspace_id, x.name, x.version from collab.secret_versions x
     where x.key_fingerprint = cur.fingerprint
     order by x.workspace_id, x.name, x.version
     limit rewrap_secrets."limit"
       for update skip locked
  loop
    select * into o from collab.vault_open(v.workspace_id, v.name, null, v.version);
    if o.status not in ('ok', 'expired') then
      failed := failed + 1;
      continue;
    end if;
    ct := extensions.pgp_sym_encrypt(o.value, nxt.enc_key, 'cipher-algo=aes256, s2k-mode=1');
    update collab.secret_versions x
       set ciphertext = ct,
           ciphertext_mac = extensions.hmac(collab.vault_mac_input(v.workspace_id, v.name, v.version, ct), nxt.mac_key, 'sha256'),
           checksum = extensions.hmac(collab.vault_mac_input(v.workspace_id, v.name, v.version,
                                                             pg_catalog.convert_to(o.value, 'UTF8')), nxt.mac_key, 'sha256'),
           key_fingerprint = nxt.fingerprint
     where x.workspace_id = v.workspace_id and x.name = v.name and x.version = v.version;
    perform collab.vault_audit(v.workspace_id, v.name, v.version, 'rewrap', 'ok');
    done := done + 1;
  end loop;
  return jsonb_build_object('rewrapped', done, 'failed', failed, 'remaining',
    (select count(*) from collab.secret_versions x where x.key_fingerprint = cur.fingerprint) - failed);
end
$$;
comment on function api.rewrap_secrets(integer) is
  'Service role only. Master key rotation: re-encrypt up to limit (1-10000) secret versions from the current master key to the next one; returns rewrapped, failed, remaining.';
revoke all on function api.rewrap_secrets(integer) from public;
grant execute on function api.rewrap_secrets(integer) to service_role;
