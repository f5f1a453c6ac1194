-- Installs the URL signing key (the project's JWT secret) for this database: writes the file
-- collab_url_signing_key.<database oid> of the data directory that collab.url_signing_key
-- reads (server-side COPY to an absolute path: a superuser, or a member of both
-- pg_write_server_files and pg_read_all_settings for data_directory). Never
-- stored in a table, so never in a dump. Run by `collab stack up` with its own secret.
create or replace function collab.set_url_signing_key(key text)
returns void
language plpgsql
volatile
as $$
begin
  if set_url_signing_key.key is null or pg_catalog.length(set_url_signing_key.key) not between 32 and 4096
     or set_url_signing_key.key !~ '^[\x21-\x5b\x5d-\x7e]+$' then
    perform collab.raise_error('PT400', 'invalid_input',
      'the signing key must be 32 to 4096 printable ASCII characters, without spaces or backslashes', 'key');
  end if;
  execute pg_catalog.format('copy (select %L) to %L', set_url_signing_key.key,
    pg_catalog.current_setting('data_directory') || '/collab_url_signing_key.' || (select d.oid from pg_catalog.pg_database d
                                   where d.datname = pg_catalog.current_database()));
end
$$;
comment on function collab.set_url_signing_key(text) is
  'Writes the URL signing key (the JWT secret) to a file of the data directory that collab.url_signing_key reads; superusers and pg_write_server_files only.';
revoke all on function collab.set_url_signing_key(text) from public;
