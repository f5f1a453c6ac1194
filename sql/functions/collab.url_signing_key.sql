-- The key that signs download URLs: the project's JWT secret, so that a URL signed here is
-- one Supabase Storage accepts. It is never in a table that pg_dump dumps, and no API role can
-- read it (docs/artifacts.md, "The signing key"):
-- * on Supabase, the Vault secret named collab_url_signing_key (vault.decrypted_secrets; a
--   dump holds only its ciphertext, the key that decrypts it lives outside the database);
-- * elsewhere, the file collab_url_signing_key.<database oid> in the cluster's data directory,
--   written by collab.set_url_signing_key (`collab stack up` does it) and read here with
--   pg_read_file, which needs the owner of this function to be a superuser or a member of
--   pg_read_server_files.
-- Executable by its owner only: api.sign_artifact and api.download_artifact call it.
-- Without a key: PT503 signing_unavailable.
create or replace function collab.url_signing_key()
returns bytea
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  key text;
begin
  if pg_catalog.to_regclass('vault.decrypted_secrets') is not null then
    -- dynamic: the vault schema exists on Supabase only
    execute pg_catalog.format('select s.decrypted_secret from %I.decrypted_secrets s where s.name = $1 limit 1', 'vault')
      into key using 'collab_url_signing_key';
  end if;
  if key is null then
    key := pg_catalog.pg_read_file(
      'collab_url_signing_key.' || (select d.oid from pg_catalog.pg_database d
                                     where d.datname = pg_catalog.current_database()),
      0, 4096, true);
  end if;
  key := pg_catalog.btrim(key, E' \t\r\n');
  if key is null or key = '' then
    perform collab.raise_error('PT503', 'signing_unavailable',
      'no URL signing key is installed in this database', null,
      'run `collab stack up`, or install the project''s JWT secret with collab.set_url_signing_key (see docs/artifacts.md)');
  end if;
  return pg_catalog.convert_to(key, 'UTF8');
end
$$;
comment on function collab.url_signing_key() is
  'The key download URLs are signed with (Vault secret collab_url_signing_key, else a file of the data directory); owner only. PT503 signing_unavailable without one.';
revoke all on function collab.url_signing_key() from public;
