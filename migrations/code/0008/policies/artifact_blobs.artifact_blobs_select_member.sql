-- A signed-in user sees the artifact_blobs rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists artifact_blobs_select_member on collab.artifact_blobs;
create policy artifact_blobs_select_member on collab.artifact_blobs
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
