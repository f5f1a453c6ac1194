-- A signed-in user sees the metrics_minutely rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists metrics_minutely_select_member on collab.metrics_minutely;
create policy metrics_minutely_select_member on collab.metrics_minutely
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
