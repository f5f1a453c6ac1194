-- A signed-in user sees the executors rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists executors_select_member on collab.executors;
create policy executors_select_member on collab.executors
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
