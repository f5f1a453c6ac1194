-- Checks a download token as Supabase Storage does (getSignedObject.ts): HS256 signature
-- under the URL signing key, scope download (or none, as Storage accepts), url equal to the
-- requested <bucket>/<path>, not expired (collab.clock()). Returns its claims; otherwise PT400
-- invalid_token with `error` (Storage's code: InvalidJWT, InvalidSignature) in DETAIL.
create or replace function collab.verify_url_token(token text, url text)
returns jsonb
language plpgsql
stable
as $$
declare
  parts text[] := pg_catalog.string_to_array(coalesce(verify_url_token.token, ''), '.');
  expected text;
  claims jsonb;
  payload text;
begin
  if pg_catalog.cardinality(parts) <> 3 then
    perform collab.raise_error('PT400', 'invalid_token', 'jwt malformed', 'token', null,
      jsonb_build_object('error', 'InvalidJWT'));
  end if;
  expected := collab.base64url(collab.hmac_sha256(collab.url_signing_key(),
    pg_catalog.convert_to(parts[1] || '.' || parts[2], 'UTF8')));
  if expected <> parts[3] then
    perform collab.raise_error('PT400', 'invalid_token', 'invalid signature', 'token', null,
      jsonb_build_object('error', 'InvalidJWT'));
  end if;
  begin
    payload := pg_catalog.translate(parts[2], '-_', '+/');
    payload := payload || pg_catalog.repeat('=', (4 - pg_catalog.length(payload) % 4) % 4);
    claims := pg_catalog.convert_from(pg_catalog.decode(payload, 'base64'), 'UTF8')::jsonb;
  exception when others then
    claims := null;
  end;
  if claims is null or pg_catalog.jsonb_typeof(claims) <> 'object' then
    perform collab.raise_error('PT400', 'invalid_token', 'jwt malformed', 'token', null,
      jsonb_build_object('error', 'InvalidJWT'));
  end if;
  if coalesce(claims ->> 'scope', 'download') <> 'download' or claims ? 'upsert' then
    perform collab.raise_error('PT400', 'invalid_token', 'the token is not a download token', 'token', null,
      jsonb_build_object('error', 'InvalidJWT'));
  end if;
  if pg_catalog.jsonb_typeof(claims -> 'exp') is distinct from 'number'
     or (claims ->> 'exp')::numeric <= extract(epoch from collab.clock()) then
    perform collab.raise_error('PT400', 'invalid_token', 'jwt expired', 'token', null,
      jsonb_build_object('error', 'InvalidJWT'));
  end if;
  if claims ->> 'url' is distinct from verify_url_token.url then
    perform collab.raise_error('PT400', 'invalid_token', 'The url do not match the signature', 'token', null,
      jsonb_build_object('error', 'InvalidSignature'));
  end if;
  return claims;
end
$$;
comment on function collab.verify_url_token(text, text) is
  'Checks a download token (signature, scope, url, expiry) as Supabase Storage does; its claims, or PT400 invalid_token.';
revoke all on function collab.verify_url_token(text, text) from public;
