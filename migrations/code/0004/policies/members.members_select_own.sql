-- A signed-in user sees their own memberships (and so, through the other policies, the rows
-- of their workspaces). Defence in depth: nothing in collab is granted to authenticated; these
-- policies confine rows if a grant is ever made (for example for Supabase Realtime).
drop policy if exists members_select_own on collab.members;
create policy members_select_own on collab.members
  for select to authenticated
  using (user_id = (select auth.uid()));
