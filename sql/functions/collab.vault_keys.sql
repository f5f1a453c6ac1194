-- The vault's keys, derived from the master key at call time and never stored: for each
-- master key found (slot 'current', and 'next' during a master key rotation) the AES key
-- (hex text for pgp_sym_encrypt), the HMAC key, and the key's fingerprint (what a secret
-- version records, so a wrong key is refused before any decrypt). The master key is 32+
-- random bytes in hex, read from Supabase Vault (secrets collab_vault_master_key and
-- collab_vault_master_key_next) where the `vault` schema exists, else from the files
-- collab_vault.key and collab_vault.next.key in the data directory (pg_read_binary_file: the
-- owner of collab must be a superuser or be granted EXECUTE on it). It never appears in a
-- query text or a parameter: docs/vault.md. Not executable by any API role.
create or replace function collab.vault_keys()
returns table (slot text, enc_key text, mac_key bytea, fingerprint bytea)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  s text;
  raw text;
  k bytea;
begin
  foreach s in array array['current', 'next'] loop
    raw := null;
    if pg_catalog.to_regclass('vault.decrypted_secrets') is not null then
      -- format(): the vault schema exists only on Supabase (plpgsql_check must not resolve it)
      execute pg_catalog.format('select d.decrypted_secret from %I.decrypted_secrets d where d.name = $1', 'vault')
        into raw
        using case s when 'current' then 'collab_vault_master_key' else 'collab_vault_master_key_next' end;
    end if;
    if raw is null then
      raw := pg_catalog.convert_from(
        pg_catalog.pg_read_binary_file(
          case s when 'current' then 'collab_vault.key' else 'collab_vault.next.key' end, 0, 4096, true),
        'UTF8');
    end if;
    raw := pg_catalog.btrim(raw, E' \t\r\n');
    if raw ~ '^([0-9a-fA-F]{2}){32,}$' then
      k := pg_catalog.decode(raw, 'hex');
      slot := s;
      enc_key := pg_catalog.encode(extensions.hmac('collab-vault-encrypt'::bytea, k, 'sha256'), 'hex');
      mac_key := extensions.hmac('collab-vault-mac'::bytea, k, 'sha256');
      fingerprint := extensions.hmac('collab-vault-fingerprint'::bytea, k, 'sha256');
      return next;
    end if;
  end loop;
end
$$;
comment on function collab.vault_keys() is
  'Keys derived from the master key(s) at call time (current; next during a master key rotation): AES key, HMAC key, fingerprint. The master key is read from Supabase Vault or the data directory, never from a table or a parameter.';
revoke all on function collab.vault_keys() from public;
