-- A signed-in user sees the jobs rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists jobs_select_member on collab.jobs;
create policy jobs_select_member on collab.jobs
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
