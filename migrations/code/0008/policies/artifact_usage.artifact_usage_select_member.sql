-- A signed-in user sees the artifact_usage rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists artifact_usage_select_member on collab.artifact_usage;
create policy artifact_usage_select_member on collab.artifact_usage
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
