-- The caller's own pending invitations (not expired), newest first: the workspace, its name,
-- the role offered, when it was sent and until when it can be accepted. Read by the invitee,
-- who may belong to no workspace yet: the caller is the JWT's sub (collab.caller_id), never
-- collab.current_workspace. PT403 forbidden without a signed-in user.
create or replace function api.list_invitations()
returns table (
  workspace_id uuid,
  name text,
  role text,
  invited_at timestamptz,
  expires_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := collab.require_user('listing invitations');
begin
  return query
    select i.workspace_id, w.name, i.role, i.created_at, i.expires_at
      from collab.invitations i
      join collab.workspaces w on w.id = i.workspace_id
     where i.user_id = uid and i.expires_at > collab.clock()
     order by i.created_at desc, i.workspace_id;
end
$$;
comment on function api.list_invitations() is
  'Your pending invitations (not expired), newest first: {workspace_id, name, role, invited_at, expires_at}. Accept one with accept_invitation, refuse it with decline_invitation. Works for a user who belongs to no workspace yet; needs a signed-in user.';
revoke all on function api.list_invitations() from public;
grant execute on function api.list_invitations() to authenticated, service_role;
