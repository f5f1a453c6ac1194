-- A signed-in user sees the finished jobs of the workspaces they are a member of, as in
-- collab.jobs; no policy allows writes (they go through the api functions).
drop policy if exists job_history_select_member on collab.job_history;
create policy job_history_select_member on collab.job_history
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
