-- A signed-in user sees the rate_buckets rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists rate_buckets_select_member on collab.rate_buckets;
create policy rate_buckets_select_member on collab.rate_buckets
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));
