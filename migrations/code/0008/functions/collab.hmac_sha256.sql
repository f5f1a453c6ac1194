-- HMAC-SHA256 (RFC 2104) on the built-in sha256(), so that signing needs no extension
-- (pgcrypto lives in another schema on Supabase, and in none on a plain cluster).
create or replace function collab.hmac_sha256(key bytea, message bytea)
returns bytea
language plpgsql
immutable
strict
parallel safe
as $$
declare
  k bytea := hmac_sha256.key;
  inner_pad bytea := '\x'::bytea;
  outer_pad bytea := '\x'::bytea;
  b integer;
begin
  if pg_catalog.octet_length(k) > 64 then
    k := pg_catalog.sha256(k);
  end if;
  k := k || pg_catalog.decode(pg_catalog.repeat('00', 64 - pg_catalog.octet_length(k)), 'hex');
  inner_pad := k;
  outer_pad := k;
  for i in 0 .. 63 loop
    b := pg_catalog.get_byte(k, i);
    inner_pad := pg_catalog.set_byte(inner_pad, i, b # 54);   -- 0x36
    outer_pad := pg_catalog.set_byte(outer_pad, i, b # 92);   -- 0x5c
  end loop;
  return pg_catalog.sha256(outer_pad || pg_catalog.sha256(inner_pad || hmac_sha256.message));
end
$$;
comment on function collab.hmac_sha256(bytea, bytea) is
  'HMAC-SHA256 of message under key (RFC 2104), with the built-in sha256().';
revoke all on function collab.hmac_sha256(bytea, bytea) from public;
