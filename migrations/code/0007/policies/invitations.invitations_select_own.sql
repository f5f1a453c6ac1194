-- A signed-in user sees the invitations addressed to them (as members_select_own). Defence in
-- depth: nothing in collab is granted to authenticated; api.list_invitations is the way in.
drop policy if exists invitations_select_own on collab.invitations;
create policy invitations_select_own on collab.invitations
  for select to authenticated
  using (user_id = (select auth.uid()));
