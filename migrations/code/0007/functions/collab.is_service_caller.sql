-- True when the caller may act for any workspace. Service status comes from the database role
-- of the session, never from a claim alone (finding 10 of the security review):
-- * the `role` setting is service_role (PostgREST switched to it for a service-role JWT; a
--   session can SET ROLE service_role only when its login is a member of it): yes;
-- * the role is anon or authenticated: no, whatever the claims say;
-- * no API role set (a direct login): claims that name someone (`sub`, or a `role` other than
--   service_role) speak for that someone: no. Otherwise, with no claims, a bare
--   `workspace_id`, or `{"role": "service_role"}`, the login itself must be privileged: a
--   superuser, a member of the owner of schema collab (psql DBAs, migrations, the direct
--   Python client), or a member of service_role (for `role: service_role`). A worker login
--   that was only granted `authenticated` stays a user, so it cannot claim its way into every
--   workspace.
-- Called on every api call: cheap tests first, the catalog last.
create or replace function collab.is_service_caller()
returns boolean
language plpgsql
stable
as $$
declare
  role_ text := coalesce(current_setting('role', true), 'none');
  claims jsonb;
  claimed_role text;
begin
  if role_ = 'service_role' then
    return true;
  elsif role_ in ('anon', 'authenticated') then
    return false;
  end if;
  claims := nullif(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb;
  claimed_role := coalesce(nullif(current_setting('request.jwt.claim.role', true), ''), claims ->> 'role');
  if claimed_role is distinct from 'service_role' and (claimed_role is not null or claims ? 'sub') then
    return false;  -- a JWT that names someone speaks for them, not for the session
  end if;
  if session_user = current_user then
    return true;  -- the functions' owner (inside a security definer function) or a direct owner session
  end if;
  return exists (
    select 1 from pg_catalog.pg_roles r
     where r.rolname = session_user
       and (r.rolsuper
            or pg_catalog.pg_has_role(session_user,
                 (select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'collab'), 'MEMBER')
            or (claimed_role = 'service_role'
                and pg_catalog.pg_has_role(session_user, 'service_role', 'MEMBER'))));
end
$$;
comment on function collab.is_service_caller() is
  'True for the service role (the role setting) and for privileged logins (superuser, owner of collab; members of service_role when the claims say role service_role) whose claims name nobody: they may name any workspace and hold every role.';
