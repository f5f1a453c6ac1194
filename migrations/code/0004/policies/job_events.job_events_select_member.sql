-- A signed-in user sees the job_events rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists job_events_select_member on collab.job_events;
create policy job_events_select_member on collab.job_events
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
