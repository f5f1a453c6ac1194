-- A signed-in user sees the metrics_signals rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists metrics_signals_select_member on collab.metrics_signals;
create policy metrics_signals_select_member on collab.metrics_signals
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
