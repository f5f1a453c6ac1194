-- A download token in Supabase Storage's shape (src/storage/object.ts signObjectUrl): an
-- HS256 JWT {"url": "<bucket>/<path>", "scope": "download", "iat", "exp"} signed with the
-- project's JWT secret (collab.url_signing_key), so Storage itself accepts it too.
create or replace function collab.sign_url(url text, expires_in integer)
returns text
language plpgsql
stable
as $$
declare
  issued bigint := pg_catalog.floor(extract(epoch from collab.clock()))::bigint;
  signing_input text := collab.base64url(pg_catalog.convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8'))
    || '.' || collab.base64url(pg_catalog.convert_to(pg_catalog.jsonb_build_object(
         'url', sign_url.url, 'scope', 'download', 'iat', issued,
         'exp', issued + sign_url.expires_in)::text, 'UTF8'));
begin
  return signing_input || '.' || collab.base64url(collab.hmac_sha256(collab.url_signing_key(),
    pg_catalog.convert_to(signing_input, 'UTF8')));
end
$$;
comment on function collab.sign_url(text, integer) is
  'An HS256 download token {url, scope: download, iat, exp = iat + expires_in} signed with the URL signing key (Supabase Storage''s shape).';
revoke all on function collab.sign_url(text, integer) from public;
