-- Open one version of a secret (by label, or by version number): status 'ok' with the
-- plaintext, or why not: 'missing', 'deleted', 'key_unavailable' (no master key with the
-- version's fingerprint), 'tampered' (the ciphertext MAC, the decryption or the checksum
-- failed: a flipped bit or a ciphertext moved between rows never yields a plaintext),
-- 'expired' (checked last; the plaintext is returned so that development mode can warn).
-- The keys are collab.vault_keys() as parallel arrays (fingerprints, AES keys, HMAC keys), so
-- that a caller opening several secrets derives them once (api.rank_routes); collab.vault_open
-- derives them itself. Writes nothing: api.read_secret audits, api.rank_routes only needs
-- the status.
create or replace function collab.vault_open_keyed(workspace_id uuid, name text, wanted_label text,
                                                   wanted_version integer, fingerprints bytea[],
                                                   enc_keys text[], mac_keys bytea[])
returns table (status text, value text, version integer, label text, expires_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  s collab.secrets;
  v collab.secret_versions;
  i integer;
  plain text;
begin
  select * into s from collab.secrets x
   where x.workspace_id = vault_open_keyed.workspace_id and x.name = vault_open_keyed.name;
  if not found then
    status := 'missing';
    return next;
    return;
  end if;
  if s.deleted_at is not null then
    status := 'deleted';
    return next;
    return;
  end if;
  select * into v from collab.secret_versions x
   where x.workspace_id = vault_open_keyed.workspace_id and x.name = vault_open_keyed.name
     and (case when vault_open_keyed.wanted_version is not null then x.version = vault_open_keyed.wanted_version
               else x.label = vault_open_keyed.wanted_label end);
  if not found then
    status := 'missing';
    return next;
    return;
  end if;
  version := v.version;
  label := v.label;
  expires_at := v.expires_at;
  i := pg_catalog.array_position(vault_open_keyed.fingerprints, v.key_fingerprint);
  if i is null then
    status := 'key_unavailable';
    return next;
    return;
  end if;
  if extensions.hmac(collab.vault_mac_input(v.workspace_id, v.name, v.version, v.ciphertext),
                     vault_open_keyed.mac_keys[i], 'sha256') is distinct from v.ciphertext_mac then
    status := 'tampered';
    return next;
    return;
  end if;
  begin
    plain := extensions.pgp_sym_decrypt(v.ciphertext, vault_open_keyed.enc_keys[i]);
  exception when others then
    plain := null;
  end;
  if plain is null
     or extensions.hmac(collab.vault_mac_input(v.workspace_id, v.name, v.version,
                                               pg_catalog.convert_to(plain, 'UTF8')),
                        vault_open_keyed.mac_keys[i], 'sha256') is distinct from v.checksum then
    status := 'tampered';
    return next;
    return;
  end if;
  value := plain;
  status := case when v.expires_at is not null and v.expires_at <= collab.clock() then 'expired' else 'ok' end;
  return next;
end
$$;
comment on function collab.vault_open_keyed(uuid, text, text, integer, bytea[], text[], bytea[]) is
  'Decrypt and verify one secret version with keys derived by the caller (collab.vault_keys as arrays): status ok (with value), missing, deleted, key_unavailable, tampered or expired (value set). Writes nothing; not executable by any API role.';
revoke all on function collab.vault_open_keyed(uuid, text, text, integer, bytea[], text[], bytea[]) from public;
