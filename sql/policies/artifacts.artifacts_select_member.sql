-- A signed-in user sees the artifacts rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists artifacts_select_member on collab.artifacts;
create policy artifacts_select_member on collab.artifacts
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
