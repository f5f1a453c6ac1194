-- True when the caller may act for any workspace: the service role (PostgREST's role or the
-- JWT's `role` claim while no API role is set), or a session whose claims name nobody (no
-- `role`, no `sub`; a bare `workspace_id` is fine) and whose login role is a superuser or owns
-- the collab schema (psql DBAs, migrations, the direct Python client).
-- A session that switched to anon or authenticated is never privileged, whatever its claims say.
create or replace function collab.is_service_caller()
returns boolean
language sql
stable
set search_path = ''
as $$
  select case
    when coalesce(current_setting('role', true), 'none') = 'service_role' then true
    when coalesce(current_setting('role', true), 'none') in ('anon', 'authenticated') then false
    when auth.role() = 'service_role' then true
    -- a JWT that names someone (a role or a user) speaks for them, not for the session
    when auth.role() is not null
         or nullif(current_setting('request.jwt.claims', true), '')::jsonb ? 'sub' then false
    else exists (
      select 1 from pg_catalog.pg_roles r
       where r.rolname = session_user
         and (r.rolsuper
              or pg_catalog.pg_has_role(session_user,
                   (select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'collab'),
                   'MEMBER')))
  end
$$;
comment on function collab.is_service_caller() is
  'True for the service role and for superuser/owner sessions without a JWT: they may name any workspace and hold every role.';
