-- The invited user refuses: their pending invitation to workspace_id is deleted (an expired one
-- too). Called by the invitee (collab.caller_id, never collab.current_workspace): PT403
-- forbidden without a signed-in user, PT404 invitation_not_found when there is none.
create or replace function api.decline_invitation(workspace_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := collab.require_user('declining an invitation');
  invitation collab.invitations;
begin
  if decline_invitation.workspace_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'workspace_id is required', 'workspace_id');
  end if;
  delete from collab.invitations i
   where i.workspace_id = decline_invitation.workspace_id and i.user_id = uid
  returning i.* into invitation;
  if invitation.user_id is null then
    perform collab.raise_error('PT404', 'invitation_not_found',
      format('you have no pending invitation to workspace %s', decline_invitation.workspace_id),
      'workspace_id');
  end if;
  return jsonb_build_object('workspace_id', invitation.workspace_id, 'user_id', uid,
                            'role', invitation.role, 'status', 'declined');
end
$$;
comment on function api.decline_invitation(uuid) is
  'Refuse your pending invitation to workspace_id (expired ones too): it is deleted. Returns {workspace_id, user_id, role, status: declined}; PT404 invitation_not_found when you have none there. Needs a signed-in user.';
revoke all on function api.decline_invitation(uuid) from public;
grant execute on function api.decline_invitation(uuid) to authenticated, service_role;
