-- The first line of every api function: the caller's workspace (collab.current_workspace()),
-- provided the caller holds at least role `min` there (viewer < member < admin < owner).
-- Service callers hold every role. Otherwise PT403 forbidden, DETAIL naming required_role.
create or replace function collab.require_role(min text)
returns uuid
language plpgsql
stable
as $$
declare
  ws uuid := collab.current_workspace();
  held text;
begin
  if collab.is_service_caller() then
    return ws;
  end if;
  select m.role into held from collab.members m
   where m.workspace_id = ws and m.user_id = auth.uid();
  if collab.role_rank(held) < collab.role_rank(require_role.min) then
    perform collab.raise_error('PT403', 'forbidden',
      format('this call needs the %s role in workspace %s (you are %s)',
             require_role.min, ws, coalesce(held, 'not a member')),
      null, 'ask an admin of the workspace for that role',
      jsonb_build_object('required_role', require_role.min, 'role', held));
  end if;
  return ws;
end
$$;
comment on function collab.require_role(text) is
  'Returns the caller''s workspace if the caller holds at least the given role there (service callers hold all), else raises PT403 forbidden with required_role in DETAIL.';
