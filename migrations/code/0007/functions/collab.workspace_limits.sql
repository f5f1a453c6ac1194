-- The limits in force for a workspace: the operator's (collab.platform_limits, overridden by
-- the workspace's limit_* columns) and its admins' quotas, as one JSON object. Null
-- workspace_id: the platform defaults only.
create or replace function collab.workspace_limits(workspace_id uuid)
returns jsonb
language sql
stable
as $$
  select jsonb_build_object(
           'workspaces_per_user', p.workspaces_per_user,
           'queues', coalesce(w.limit_queues, p.queues_per_workspace),
           'executors', coalesce(w.limit_executors, p.executors_per_workspace),
           'stored_jobs', coalesce(w.limit_stored_jobs, p.stored_jobs_per_workspace),
           'payload_ceiling_bytes', coalesce(w.limit_payload_bytes, p.payload_ceiling_bytes))
         || case when w.id is null then '{}'::jsonb
                 else jsonb_build_object('workspace_id', w.id,
                                         'max_payload_bytes', w.max_payload_bytes,
                                         'max_queued_jobs', w.max_queued_jobs) end
    from collab.platform_limits p
    left join collab.workspaces w on w.id = workspace_limits.workspace_id
$$;
comment on function collab.workspace_limits(uuid) is
  'Effective limits of a workspace (operator limits with its overrides, and its admins'' quotas) as JSON; null: the platform defaults.';
