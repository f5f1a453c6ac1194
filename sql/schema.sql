-- Collab: the whole schema in one readable file (tables, types, indexes, roles, schemas).
-- The numbered alembic revisions under migrations/ build exactly this, step by step; the
-- drift test (tests/py/migration) fails when the two differ. Code objects (functions,
-- views, triggers, policies) live one per file under sql/functions, sql/views,
-- sql/triggers and sql/policies.

------------------------------------------------------------------------------------------
-- Supabase compatibility: roles and the auth schema, created only where missing.
------------------------------------------------------------------------------------------
do $roles$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$roles$;

do $auth$
begin
  if not exists (select 1 from pg_namespace where nspname = 'auth') then
    create schema auth;
    comment on schema auth is 'Supabase auth shim created by collab (plain Postgres only)';
    grant usage on schema auth to anon, authenticated, service_role;
  end if;
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $f$;
    comment on function auth.uid() is 'The caller''s user id: the sub claim of the request JWT.';
    grant execute on function auth.uid() to anon, authenticated, service_role;
  end if;
  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $f$;
    comment on function auth.role() is 'The caller''s role: the role claim of the request JWT.';
    grant execute on function auth.role() to anon, authenticated, service_role;
  end if;
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $f$;
    comment on function auth.jwt() is 'All claims of the request JWT, as PostgREST sets them.';
    grant execute on function auth.jwt() to anon, authenticated, service_role;
  end if;
end
$auth$;

------------------------------------------------------------------------------------------
-- Schemas: collab is private, api is the public RPC surface (the only one PostgREST exposes).
------------------------------------------------------------------------------------------
create schema collab;
comment on schema collab is 'Collab private tables and internal functions. Never exposed.';
revoke all on schema collab from public;
grant usage on schema collab to service_role;

create schema api;
comment on schema api is 'Collab public RPC surface: small, documented, validated functions.';
revoke all on schema api from public;
grant usage on schema api to anon, authenticated, service_role;
