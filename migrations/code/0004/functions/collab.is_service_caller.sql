-- True when the caller may act for any workspace: the service role (PostgREST's role, or the
-- JWT's `role` claim while no API role is set), or a session whose claims name nobody (no
-- `role`, no `sub`; a bare `workspace_id` is fine) and whose login role owns the api functions
-- (session_user = current_user inside them: free), is a superuser, or owns the collab schema
-- (psql DBAs, migrations, the direct Python client).
-- A session that switched to anon or authenticated is never privileged, whatever its claims say.
-- Called on every api call: cheap tests first, the catalog last.
create or replace function collab.is_service_caller()
returns boolean
language plpgsql
stable
set search_path = ''
as $$
declare
  role_ text := coalesce(current_setting('role', true), 'none');
  claims text;
begin
  if role_ = 'service_role' then
    return true;
  elsif role_ in ('anon', 'authenticated') then
    return false;
  end if;
  claims := nullif(current_setting('request.jwt.claims', true), '');
  if claims is not null and claims <> '{}' then
    if claims::jsonb ->> 'role' = 'service_role' then
      return true;
    elsif claims::jsonb ?| array['role', 'sub'] then
      return false;  -- a JWT that names someone speaks for them, not for the session
    end if;
  end if;
  if nullif(current_setting('request.jwt.claim.role', true), '') is not null then
    return current_setting('request.jwt.claim.role', true) = 'service_role';
  end if;
  if session_user = current_user then
    return true;  -- the functions' owner (inside a security definer function) or a direct owner session
  end if;
  return exists (
    select 1 from pg_catalog.pg_roles r
     where r.rolname = session_user
       and (r.rolsuper
            or pg_catalog.pg_has_role(session_user,
                 (select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'collab'), 'MEMBER')));
end
$$;
comment on function collab.is_service_caller() is
  'True for the service role and for superuser/owner sessions whose claims name nobody: they may name any workspace and hold every role.';
