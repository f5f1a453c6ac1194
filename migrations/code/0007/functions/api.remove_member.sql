-- An admin or owner removes user_id from the caller's workspace, and cancels their pending
-- invitation there. The rank rules of api.add_member hold: nobody removes someone above their
-- own rank (or cancels an invitation to a role above it), and only an owner removes another
-- admin (anyone may remove themselves, as api.leave_workspace). The last owner is never
-- removed (PT409 last_owner; the owner rows are locked before they are counted). PT404
-- member_not_found when user_id is neither a member nor invited. Service callers may remove
-- anyone but the last owner.
create or replace function api.remove_member(user_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  uid uuid := collab.caller_id();
  service boolean := collab.is_service_caller();
  mine text;
  theirs text;
  invited text;
begin
  if remove_member.user_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'user_id is required', 'user_id');
  end if;
  -- The invitation first: a concurrent accept_invitation (or decline) finishes, and the
  -- membership it made is read below.
  select i.role into invited from collab.invitations i
   where i.workspace_id = ws and i.user_id = remove_member.user_id
   for update;
  select m.role into theirs from collab.members m
   where m.workspace_id = ws and m.user_id = remove_member.user_id;
  if theirs is null and invited is null then
    perform collab.raise_error('PT404', 'member_not_found',
      format('user %s is neither a member of workspace %s nor invited to it', remove_member.user_id, ws),
      'user_id');
  end if;
  if not service then
    select m.role into mine from collab.members m
     where m.workspace_id = ws and m.user_id = uid;
    if not collab.may_manage(mine, theirs, remove_member.user_id = uid)
       or collab.role_rank(invited) > collab.role_rank(mine) then
      perform collab.raise_error('PT403', 'forbidden',
        format('a %s cannot remove a %s (an admin is removed by an owner)', mine, coalesce(theirs, 'invited ' || invited)),
        'user_id', 'ask an owner', jsonb_build_object('required_role', 'owner', 'role', mine));
    end if;
  end if;
  perform collab.require_another_owner(ws, remove_member.user_id);  -- locks, then counts
  -- The rank rules again on the row as it is when deleted (a concurrent promotion waits or wins).
  delete from collab.members m
   where m.workspace_id = ws and m.user_id = remove_member.user_id
     and (service or collab.may_manage(mine, m.role, m.user_id = uid))
  returning m.role into theirs;
  if not found and exists (select 1 from collab.members m
                            where m.workspace_id = ws and m.user_id = remove_member.user_id) then
    perform collab.raise_error('PT403', 'forbidden',
      format('a %s cannot remove user %s, whose role changed meanwhile', mine, remove_member.user_id),
      'user_id', 'ask an owner', jsonb_build_object('required_role', 'owner', 'role', mine));
  end if;
  delete from collab.invitations i where i.workspace_id = ws and i.user_id = remove_member.user_id
  returning i.role into invited;
  if theirs is null and invited is null then  -- removed or declined meanwhile
    perform collab.raise_error('PT404', 'member_not_found',
      format('user %s is neither a member of workspace %s nor invited to it', remove_member.user_id, ws),
      'user_id');
  end if;
  -- The invitations they sent lapse with their membership.
  delete from collab.invitations i where i.workspace_id = ws and i.invited_by = remove_member.user_id;
  return jsonb_build_object('workspace_id', ws, 'user_id', remove_member.user_id,
                            'role', theirs, 'invitation_role', invited,
                            'status', case when theirs is not null then 'removed' else 'invitation_cancelled' end);
end
$$;
comment on function api.remove_member(uuid) is
  'Remove user_id from the caller''s workspace and cancel their pending invitation there. Needs admin; nobody removes someone above their own role (or cancels an invitation to a role above it), only an owner removes another admin. The invitations the removed member sent are cancelled too. Returns {workspace_id, user_id, role (the role removed, null if only invited), invitation_role, status: removed or invitation_cancelled}. PT404 member_not_found when user_id is neither a member nor invited; PT409 last_owner for the only owner.';
revoke all on function api.remove_member(uuid) from public;
grant execute on function api.remove_member(uuid) to authenticated, service_role;
