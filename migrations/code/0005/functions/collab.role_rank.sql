-- Roles in a workspace, weakest first: viewer < member < admin < owner (0 for none).
create or replace function collab.role_rank(role text)
returns integer
language sql
immutable
parallel safe
as $$
  select case role_rank.role when 'viewer' then 1 when 'member' then 2
                             when 'admin' then 3 when 'owner' then 4 else 0 end
$$;
comment on function collab.role_rank(text) is 'Rank of a workspace role: viewer 1, member 2, admin 3, owner 4, anything else 0.';
