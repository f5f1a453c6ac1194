-- The limits in force in the caller's workspace (viewer) and what it uses of them: the
-- operator's (queues, executors, stored_jobs, payload_ceiling_bytes, workspaces_per_user) and
-- its admins' quotas (max_payload_bytes, max_queued_jobs). usage.stored_jobs is the reaper's
-- last count (collab.count_stored_jobs, at stored_jobs_counted_at; null before the first),
-- counted up to the limit + 1: it does not count the jobs table on a read.
create or replace function api.get_limits()
returns jsonb
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.workspace_limits(ws.id) || jsonb_build_object('usage', jsonb_build_object(
           'queues', (select count(*) from collab.queues q where q.workspace_id = ws.id),
           'executors', (select count(*) from collab.executors e where e.workspace_id = ws.id),
           'stored_jobs', (select case when w.stored_jobs_counted_at is not null then w.stored_jobs end
                             from collab.workspaces w where w.id = ws.id),
           'stored_jobs_counted_at', (select w.stored_jobs_counted_at from collab.workspaces w where w.id = ws.id)))
    from (select collab.require_role('viewer') as id) ws
$$;
comment on function api.get_limits() is
  'Limits of the caller''s workspace and its usage: {workspace_id, workspaces_per_user, queues, executors, stored_jobs, payload_ceiling_bytes (operator limits, api.configure_limits), max_payload_bytes, max_queued_jobs (admin quotas, api.configure_workspace), usage: {queues, executors, stored_jobs, stored_jobs_counted_at}}; usage.stored_jobs is the reaper''s last count (at stored_jobs_counted_at, up to the limit + 1; null before the first).';
revoke all on function api.get_limits() from public;
grant execute on function api.get_limits() to authenticated, service_role;
