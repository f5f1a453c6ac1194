-- Add a user to the caller's workspace, or change their role (admin and up; nobody grants
-- or changes a role above their own).
create or replace function api.add_member(user_id uuid, role text default 'member')
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.require_role('admin');
  mine text;
  theirs text;
begin
  if add_member.user_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'user_id is required', 'user_id');
  end if;
  if collab.role_rank(add_member.role) = 0 then
    perform collab.raise_error('PT400', 'invalid_input',
      'role must be one of owner, admin, member, viewer', 'role');
  end if;
  if not collab.is_service_caller() then
    select m.role into mine from collab.members m
     where m.workspace_id = ws and m.user_id = auth.uid();
    select m.role into theirs from collab.members m
     where m.workspace_id = ws and m.user_id = add_member.user_id;
    if collab.role_rank(add_member.role) > collab.role_rank(mine)
       or collab.role_rank(theirs) > collab.role_rank(mine) then
      perform collab.raise_error('PT403', 'forbidden',
        format('a %s cannot grant the %s role or change the role of a %s', mine, add_member.role, coalesce(theirs, 'non-member')),
        'role', 'ask an owner', jsonb_build_object('required_role', 'owner'));
    end if;
  end if;
  insert into collab.members as m (workspace_id, user_id, role)
  values (ws, add_member.user_id, add_member.role)
  on conflict on constraint members_pkey do update set role = excluded.role;
  return jsonb_build_object('workspace_id', ws, 'user_id', add_member.user_id, 'role', add_member.role);
end
$$;
comment on function api.add_member(uuid, text) is
  'Add user_id to the caller''s workspace with role (owner, admin, member, viewer; default member) or change their role. Needs admin; nobody grants or changes a role above their own.';
revoke all on function api.add_member(uuid, text) from public;
grant execute on function api.add_member(uuid, text) to authenticated, service_role;
