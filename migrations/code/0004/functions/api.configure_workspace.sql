-- Quotas of the caller's workspace (admin): a null argument keeps the current value.
create or replace function api.configure_workspace(max_payload_bytes integer default null, max_queued_jobs integer default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.require_role('admin');
  w collab.workspaces;
begin
  if configure_workspace.max_payload_bytes is not null
     and configure_workspace.max_payload_bytes not between 2 and 104857600 then
    perform collab.raise_error('PT400', 'invalid_input',
      'max_payload_bytes must be between 2 and 104857600 (100 MiB)', 'max_payload_bytes');
  end if;
  if configure_workspace.max_queued_jobs is not null
     and configure_workspace.max_queued_jobs not between 0 and 10000000 then
    perform collab.raise_error('PT400', 'invalid_input',
      'max_queued_jobs must be between 1 and 10000000 (0 removes the quota)', 'max_queued_jobs');
  end if;
  update collab.workspaces x
     set max_payload_bytes = coalesce(configure_workspace.max_payload_bytes, x.max_payload_bytes),
         max_queued_jobs = case when configure_workspace.max_queued_jobs is null then x.max_queued_jobs
                                else nullif(configure_workspace.max_queued_jobs, 0) end
   where x.id = ws
  returning x.* into w;
  return jsonb_build_object('workspace_id', w.id, 'name', w.name, 'max_payload_bytes', w.max_payload_bytes, 'max_queued_jobs', w.max_queued_jobs);
end
$$;
comment on function api.configure_workspace(integer, integer) is
  'Quotas of the caller''s workspace (admin). max_payload_bytes: largest job payload enqueue accepts (JSON text bytes, 2 B-100 MiB, default 1 MiB). max_queued_jobs: most jobs queued at once (enqueue beyond it is PT429 quota_exceeded; 0 removes the quota). A null argument keeps the current value. Returns the workspace''s settings.';
revoke all on function api.configure_workspace(integer, integer) from public;
grant execute on function api.configure_workspace(integer, integer) to authenticated, service_role;
