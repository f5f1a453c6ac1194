-- Add a user to the caller's workspace, or change a member's role (admin and up).
-- * A service caller adds (or changes) the membership directly.
-- * An admin or owner naming an existing member changes their role directly. Nobody grants a
--   role above their own or changes the role of someone above them, and only an owner changes
--   the role of another admin (an admin may still change their own).
-- * An admin or owner naming a user who is not a member writes (or refreshes) a pending
--   invitation in collab.invitations instead (finding 3 of the security review): nobody
--   becomes a member of a workspace without accepting (api.accept_invitation).
-- * A workspace that has an owner keeps one: demoting its last owner is PT409 last_owner. The
--   owner rows are locked before they are counted, so two concurrent demotions (or a
--   demotion and a leave) of the last two owners cannot both succeed.
-- * The invitations a demoted member sent to a role above their new one lapse.
create or replace function api.add_member(user_id uuid, role text default 'member')
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  service boolean := collab.is_service_caller();
  uid uuid := collab.caller_id();
  mine text;
  theirs text;
  invitation collab.invitations;
begin
  if add_member.user_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'user_id is required', 'user_id');
  end if;
  if collab.role_rank(add_member.role) = 0 then
    perform collab.raise_error('PT400', 'invalid_input',
      'role must be one of owner, admin, member, viewer', 'role');
  end if;
  select m.role into theirs from collab.members m
   where m.workspace_id = ws and m.user_id = add_member.user_id;
  if not service then
    select m.role into mine from collab.members m
     where m.workspace_id = ws and m.user_id = uid;
    if collab.role_rank(add_member.role) > collab.role_rank(mine)
       or not collab.may_manage(mine, theirs, add_member.user_id = uid) then
      perform collab.raise_error('PT403', 'forbidden',
        format('a %s cannot grant the %s role or change the role of %s', mine, add_member.role,
               case when theirs is null then 'a non-member'
                    when add_member.user_id = uid then 'themselves'
                    else 'a ' || theirs || ' (an admin''s role is changed by an owner)' end),
        'role', 'ask an owner', jsonb_build_object('required_role', 'owner', 'role', mine));
    end if;
    if theirs is not null then
      if add_member.role <> 'owner' then
        perform collab.require_another_owner(ws, add_member.user_id);  -- locks, then counts
      end if;
      -- The rank rules again on the row as it is when updated (a concurrent change waits or wins).
      update collab.members m set role = add_member.role
       where m.workspace_id = ws and m.user_id = add_member.user_id
         and collab.may_manage(mine, m.role, m.user_id = uid);
      if found then
        delete from collab.invitations i where i.workspace_id = ws and i.user_id = add_member.user_id;
        -- Invitations they sent to a role above their new one lapse.
        delete from collab.invitations i
         where i.workspace_id = ws and i.invited_by = add_member.user_id
           and collab.role_rank(i.role) > collab.role_rank(add_member.role);
        return jsonb_build_object('workspace_id', ws, 'user_id', add_member.user_id,
                                  'role', add_member.role, 'status', 'member');
      end if;
      if exists (select 1 from collab.members m where m.workspace_id = ws and m.user_id = add_member.user_id) then
        perform collab.raise_error('PT403', 'forbidden',
          format('a %s cannot change the role of user %s, whose role changed meanwhile', mine, add_member.user_id),
          'role', 'ask an owner', jsonb_build_object('required_role', 'owner', 'role', mine));
      end if;
      -- They left meanwhile: no longer a member, so they are invited like anyone else.
    end if;
    -- Not a member: an invitation the user accepts (or not), never a membership. At most
    -- 1,000 pending a workspace, so nobody floods other users' list_invitations.
    if not exists (select 1 from collab.invitations i where i.workspace_id = ws and i.user_id = add_member.user_id)
       and (select count(*) from (select 1 from collab.invitations i
                                   where i.workspace_id = ws and i.expires_at > collab.clock()
                                   limit 1000) x) >= 1000 then
      perform collab.raise_error('PT429', 'quota_exceeded',
        'the workspace has 1000 pending invitations, the most it may have', 'user_id',
        'wait for invitees to accept or decline, or cancel invitations with api.remove_member',
        jsonb_build_object('quota', 'invitations', 'limit', 1000));
    end if;
    insert into collab.invitations as i (workspace_id, user_id, role, invited_by, created_at, expires_at)
    values (ws, add_member.user_id, add_member.role, uid, collab.clock(), collab.clock() + interval '7 days')
    on conflict on constraint invitations_pkey do update
      set role = excluded.role, invited_by = excluded.invited_by,
          created_at = excluded.created_at, expires_at = excluded.expires_at
    returning i.* into invitation;
    return jsonb_build_object('workspace_id', ws, 'user_id', add_member.user_id,
                              'role', add_member.role, 'status', 'invited',
                              'expires_at', invitation.expires_at);
  end if;
  -- A service caller writes the membership directly.
  if add_member.role <> 'owner' then
    perform collab.require_another_owner(ws, add_member.user_id);  -- locks, then counts
  end if;
  insert into collab.members as m (workspace_id, user_id, role)
  values (ws, add_member.user_id, add_member.role)
  on conflict on constraint members_pkey do update set role = excluded.role;
  delete from collab.invitations i
   where i.workspace_id = ws
     and (i.user_id = add_member.user_id
          or (i.invited_by = add_member.user_id and collab.role_rank(i.role) > collab.role_rank(add_member.role)));
  return jsonb_build_object('workspace_id', ws, 'user_id', add_member.user_id,
                            'role', add_member.role, 'status', 'member');
end
$$;
comment on function api.add_member(uuid, text) is
  'Give user_id a role (owner, admin, member, viewer; default member) in the caller''s workspace. Needs admin; nobody grants a role above their own or changes the role of someone above them, and only an owner changes another admin''s role. An existing member''s role is changed at once (status member). Since revision 0007 a user who is not a member is only invited (status invited, with expires_at, 7 days; at most 1000 pending a workspace, PT429 quota_exceeded): they join with accept_invitation. Service callers add members directly. Demoting the last owner is PT409 last_owner; invitations a demoted member sent to a role above their new one are cancelled. Returns {workspace_id, user_id, role, status}.';
revoke all on function api.add_member(uuid, text) from public;
grant execute on function api.add_member(uuid, text) to authenticated, service_role;
