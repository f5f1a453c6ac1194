-- The caller leaves the workspace they act in (collab.current_workspace: the workspace_id
-- claim, or their only one). The last owner cannot leave (PT409 last_owner): the owner rows
-- are locked before they are counted (collab.require_another_owner), so of two owners leaving
-- at once one stays. Service callers are members of nothing: PT403 forbidden.
create or replace function api.leave_workspace()
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  uid uuid := collab.caller_id();
  held text;
begin
  if collab.is_service_caller() then
    perform collab.raise_error('PT403', 'forbidden',
      'the service role is a member of no workspace and cannot leave one', null,
      'remove a member with api.remove_member', jsonb_build_object('required_role', 'authenticated'));
  end if;
  perform collab.require_another_owner(ws, uid);
  delete from collab.members m
   where m.workspace_id = ws and m.user_id = uid
  returning m.role into held;
  -- The invitations they sent lapse with their membership.
  delete from collab.invitations i where i.workspace_id = ws and i.invited_by = uid;
  return jsonb_build_object('workspace_id', ws, 'user_id', uid, 'role', held, 'status', 'left');
end
$$;
comment on function api.leave_workspace() is
  'Leave the workspace you act in (the workspace_id claim, or your only one). Returns {workspace_id, user_id, role (the role you had), status: left}. PT409 last_owner when you are its only owner: make another member an owner first. The invitations you sent there are cancelled. Your executors there can no longer claim; their running jobs return to the queue when their leases expire.';
revoke all on function api.leave_workspace() from public;
grant execute on function api.leave_workspace() to authenticated, service_role;
