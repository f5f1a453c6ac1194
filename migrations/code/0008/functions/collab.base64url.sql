-- base64url without padding (RFC 4648 §5), as JWTs use it.
create or replace function collab.base64url(data bytea)
returns text
language sql
immutable
strict
parallel safe
as $$
  select pg_catalog.translate(pg_catalog.encode(data, 'base64'), E'+/=\n', '-_')
$$;
comment on function collab.base64url(bytea) is 'base64url of data, without padding or line breaks (RFC 4648 §5).';
revoke all on function collab.base64url(bytea) from public;
