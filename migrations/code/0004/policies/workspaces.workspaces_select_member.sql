-- A signed-in user sees the workspaces they are a member of.
drop policy if exists workspaces_select_member on collab.workspaces;
create policy workspaces_select_member on collab.workspaces
  for select to authenticated
  using (id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
