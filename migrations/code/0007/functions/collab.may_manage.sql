-- The rank rule of add_member and remove_member in one place: a caller holding role `mine` may
-- change or remove a member holding `theirs` when theirs ranks no higher than mine, except
-- that only an owner touches another admin (an admin may change or remove themselves). A
-- one-line SQL function, so the planner inlines it into the DML that re-checks it.
create or replace function collab.may_manage(mine text, theirs text, is_self boolean)
returns boolean
language sql
immutable
parallel safe
as $$
  select collab.role_rank(theirs) <= collab.role_rank(mine)
     and not coalesce(theirs = 'admin' and mine = 'admin' and not is_self, false)
$$;
comment on function collab.may_manage(text, text, boolean) is
  'True when a caller with role mine may change or remove a member with role theirs (no higher rank; only an owner touches another admin; is_self: the member is the caller).';
