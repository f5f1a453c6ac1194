-- What a secret version's two MACs cover: its workspace, name and version (so a ciphertext
-- moved to another row fails), then the ciphertext (ciphertext_mac, checked before decrypting)
-- or the plaintext (checksum, checked after). Stable (jsonb_build_array is), so the planner
-- inlines it into the callers' cached expressions instead of running a SQL function per call.
create or replace function collab.vault_mac_input(workspace_id uuid, name text, version integer, content bytea)
returns bytea
language sql
stable
parallel safe
as $$
  select pg_catalog.convert_to(pg_catalog.jsonb_build_array(vault_mac_input.workspace_id::text,
           vault_mac_input.name, vault_mac_input.version)::text, 'UTF8') || '\x00'::bytea || vault_mac_input.content
$$;
comment on function collab.vault_mac_input(uuid, text, integer, bytea) is
  'The bytes a secret version''s MACs cover: JSON [workspace_id, name, version], a zero byte, then the ciphertext or the plaintext.';
revoke all on function collab.vault_mac_input(uuid, text, integer, bytea) from public;
