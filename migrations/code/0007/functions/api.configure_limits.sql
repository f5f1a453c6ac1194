-- The operator's limits (service role only): without workspace_id the platform defaults
-- (collab.platform_limits), with it that workspace's overrides (0 removes an override: the
-- default applies again). A null argument keeps the current value. Lowering a payload ceiling
-- lowers the max_payload_bytes of the workspaces above it. A new stored_jobs limit is counted
-- against at once (collab.count_stored_jobs): the workspace changed, or for a platform default
-- the workspaces the reaper would count, so enqueue is refused or accepted again from this
-- call on. Returns the limits in force (of the workspace, or the defaults).
create or replace function api.configure_limits(
  workspace_id uuid default null,
  workspaces_per_user integer default null,
  queues integer default null,
  executors integer default null,
  stored_jobs bigint default null,
  payload_ceiling_bytes integer default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  low integer := case when configure_limits.workspace_id is null then 1 else 0 end;
  bad text;
begin
  if not collab.is_service_caller() then
    perform collab.raise_error('PT403', 'forbidden', 'operator limits are set by the service role only',
      null, null, jsonb_build_object('required_role', 'service_role'));
  end if;
  select v.field into bad from (values
      (1, 'workspaces_per_user', configure_limits.workspaces_per_user::bigint, 1000000::bigint),
      (2, 'queues', configure_limits.queues::bigint, 10000000::bigint),
      (3, 'executors', configure_limits.executors::bigint, 1000000::bigint),
      (4, 'stored_jobs', configure_limits.stored_jobs, 1000000000000::bigint),
      (5, 'payload_ceiling_bytes', configure_limits.payload_ceiling_bytes::bigint, 104857600::bigint)
    ) v(n, field, value, high)
   where v.value is not null
     and (v.value not between low and v.high or (v.field = 'payload_ceiling_bytes' and v.value = 1))
   order by v.n limit 1;
  if bad is not null then
    perform collab.raise_error('PT400', 'invalid_input',
      format('%s must be between %s and %s%s', bad, case when bad = 'payload_ceiling_bytes' and low = 1 then 2 else low end,
             case bad when 'workspaces_per_user' then 1000000 when 'queues' then 10000000
                      when 'executors' then 1000000 when 'stored_jobs' then 1000000000000 else 104857600 end,
             case when low = 0 then ' (0 removes the workspace''s override)' else '' end),
      bad);
  end if;

  if configure_limits.workspace_id is null then
    update collab.platform_limits p set
      workspaces_per_user = coalesce(configure_limits.workspaces_per_user, p.workspaces_per_user),
      queues_per_workspace = coalesce(configure_limits.queues, p.queues_per_workspace),
      executors_per_workspace = coalesce(configure_limits.executors, p.executors_per_workspace),
      stored_jobs_per_workspace = coalesce(configure_limits.stored_jobs, p.stored_jobs_per_workspace),
      payload_ceiling_bytes = coalesce(configure_limits.payload_ceiling_bytes, p.payload_ceiling_bytes);
    if configure_limits.payload_ceiling_bytes is not null then
      update collab.workspaces w set max_payload_bytes = configure_limits.payload_ceiling_bytes
       where w.limit_payload_bytes is null and w.max_payload_bytes > configure_limits.payload_ceiling_bytes;
    end if;
    if configure_limits.stored_jobs is not null then
      perform collab.count_stored_jobs();
    end if;
    return collab.workspace_limits(null);
  end if;

  if configure_limits.workspaces_per_user is not null then
    perform collab.raise_error('PT400', 'invalid_input',
      'workspaces_per_user is a limit per user, not per workspace: set it without workspace_id',
      'workspaces_per_user');
  end if;
  update collab.workspaces w set
    limit_queues = case when configure_limits.queues is null then w.limit_queues else nullif(configure_limits.queues, 0) end,
    limit_executors = case when configure_limits.executors is null then w.limit_executors else nullif(configure_limits.executors, 0) end,
    limit_stored_jobs = case when configure_limits.stored_jobs is null then w.limit_stored_jobs else nullif(configure_limits.stored_jobs, 0) end,
    limit_payload_bytes = case when configure_limits.payload_ceiling_bytes is null then w.limit_payload_bytes
                               else nullif(configure_limits.payload_ceiling_bytes, 0) end
   where w.id = configure_limits.workspace_id;
  if not found then
    perform collab.raise_error('PT400', 'invalid_input',
      format('no workspace %s', configure_limits.workspace_id), 'workspace_id');
  end if;
  update collab.workspaces w
     set max_payload_bytes = (collab.workspace_limits(w.id) ->> 'payload_ceiling_bytes')::integer
   where w.id = configure_limits.workspace_id
     and w.max_payload_bytes > (collab.workspace_limits(w.id) ->> 'payload_ceiling_bytes')::integer;
  perform collab.count_stored_jobs(configure_limits.workspace_id);
  return collab.workspace_limits(configure_limits.workspace_id);
end
$$;
comment on function api.configure_limits(uuid, integer, integer, integer, bigint, integer) is
  'Operator limits (service role only), which a workspace''s admins cannot raise. Without workspace_id: the platform defaults (workspaces_per_user a user may own, queues, executors, stored_jobs of any status per workspace, payload_ceiling_bytes: the most an admin may set max_payload_bytes to). With workspace_id: that workspace''s overrides (0 removes one). A null argument keeps the current value. Over a limit a call is PT429 quota_exceeded {quota, limit}. stored_jobs is enforced from counts (collab.reap, every minute with pg_cron; this call recounts the workspace it changes): a workspace can go over it by what it enqueues between two counts. Returns the limits in force.';
revoke all on function api.configure_limits(uuid, integer, integer, integer, bigint, integer) from public;
grant execute on function api.configure_limits(uuid, integer, integer, integer, bigint, integer) to service_role;
