-- The invited user joins: their pending invitation to workspace_id (api.add_member by an admin)
-- becomes a membership with the invited role, in one statement pair under the invitation's row
-- lock (a concurrent accept, decline or remove_member waits, then finds nothing). Called by
-- the invitee, who is not a member yet: the caller is the JWT's sub (collab.caller_id), never
-- collab.current_workspace. PT403 forbidden without a signed-in user; PT404
-- invitation_not_found when there is none for the caller (or it was cancelled or declined);
-- PT410 invitation_expired after its expires_at (ask for a new one). A caller who became a
-- member meanwhile keeps their role and the invitation is dropped.
create or replace function api.accept_invitation(workspace_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := collab.require_user('accepting an invitation');
  invitation collab.invitations;
  held text;
begin
  if accept_invitation.workspace_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'workspace_id is required', 'workspace_id');
  end if;
  select i.* into invitation from collab.invitations i
   where i.workspace_id = accept_invitation.workspace_id and i.user_id = uid
   for update;
  if invitation.user_id is null then
    perform collab.raise_error('PT404', 'invitation_not_found',
      format('you have no pending invitation to workspace %s', accept_invitation.workspace_id),
      'workspace_id', 'ask an admin of the workspace to invite you (api.add_member)');
  end if;
  if invitation.expires_at <= collab.clock() then
    perform collab.raise_error('PT410', 'invitation_expired',
      format('your invitation to workspace %s expired at %s', accept_invitation.workspace_id,
             invitation.expires_at),
      'workspace_id', 'ask an admin of the workspace to invite you again',
      jsonb_build_object('expires_at', invitation.expires_at));
  end if;
  delete from collab.invitations i
   where i.workspace_id = invitation.workspace_id and i.user_id = uid;
  insert into collab.members as m (workspace_id, user_id, role)
  values (invitation.workspace_id, uid, invitation.role)
  on conflict on constraint members_pkey do nothing
  returning m.role into held;
  if held is null then
    select m.role into held from collab.members m
     where m.workspace_id = invitation.workspace_id and m.user_id = uid;
  end if;
  return jsonb_build_object('workspace_id', invitation.workspace_id,
                            'name', (select w.name from collab.workspaces w where w.id = invitation.workspace_id),
                            'user_id', uid, 'role', held, 'status', 'member');
end
$$;
comment on function api.accept_invitation(uuid) is
  'Join workspace_id with the role of your pending invitation (api.add_member by one of its admins). Returns {workspace_id, name, user_id, role, status: member}. PT404 invitation_not_found when you have none there, PT410 invitation_expired after its expires_at (ask for a new one). Needs a signed-in user. A user of several workspaces then names one in the workspace_id claim of their token.';
revoke all on function api.accept_invitation(uuid) from public;
grant execute on function api.accept_invitation(uuid) to authenticated, service_role;
