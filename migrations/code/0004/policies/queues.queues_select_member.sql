-- A signed-in user sees the queues rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists queues_select_member on collab.queues;
create policy queues_select_member on collab.queues
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
