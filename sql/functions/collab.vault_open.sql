-- Open one version of a secret (collab.vault_open_keyed: statuses ok, missing, deleted,
-- key_unavailable, tampered, expired) with the keys derived here. Writes nothing.
create or replace function collab.vault_open(workspace_id uuid, name text, wanted_label text default 'current',
                                             wanted_version integer default null)
returns table (status text, value text, version integer, label text, expires_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  -- the keys flow as data inside one statement (never as a plan parameter)
  return query
    select o.*
      from (select pg_catalog.array_agg(kk.fingerprint) as fps, pg_catalog.array_agg(kk.enc_key) as encs,
                   pg_catalog.array_agg(kk.mac_key) as macs
              from collab.vault_keys() kk) k
     cross join lateral collab.vault_open_keyed(vault_open.workspace_id, vault_open.name, vault_open.wanted_label,
                                                vault_open.wanted_version, k.fps, k.encs, k.macs) o;
end
$$;
comment on function collab.vault_open(uuid, text, text, integer) is
  'Decrypt and verify one secret version: status ok (with value), missing, deleted, key_unavailable, tampered or expired (value set). Writes nothing; not executable by any API role.';
revoke all on function collab.vault_open(uuid, text, text, integer) from public;
