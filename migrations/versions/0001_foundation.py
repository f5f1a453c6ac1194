"""Foundation: Supabase roles and auth shim, the collab and api schemas.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collab.migration_ops import execute_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
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

        create schema collab;
        comment on schema collab is 'Collab private tables and internal functions. Never exposed.';
        revoke all on schema collab from public;
        grant usage on schema collab to service_role;

        create schema api;
        comment on schema api is 'Collab public RPC surface: small, documented, validated functions.';
        revoke all on schema api from public;
        grant usage on schema api to anon, authenticated, service_role;
        """
    )


def downgrade() -> None:
    # Roles are cluster-wide and may serve other databases: they stay. The auth shim is
    # dropped only where collab created it (on Supabase, auth belongs to Supabase).
    execute_script(
        """
        drop schema api cascade;
        drop schema collab cascade;
        do $auth$
        begin
          if obj_description('auth'::regnamespace, 'pg_namespace')
             = 'Supabase auth shim created by collab (plain Postgres only)' then
            drop schema auth cascade;
          end if;
        end
        $auth$;
        """
    )
