-- Who the caller is and where they act: the workspace every other call of theirs acts in
-- (collab.current_workspace), their role there ('service' for service callers), and the
-- channels to LISTEN on for that workspace (direct connections: workers and subscribers).
create or replace function api.whoami()
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  held text;
begin
  if collab.is_service_caller() then
    held := 'service';
  else
    select m.role into held from collab.members m where m.workspace_id = ws and m.user_id = collab.caller_id();
  end if;
  return jsonb_build_object(
    'user_id', case when held = 'service' then null else collab.caller_id() end,
    'workspace_id', ws,
    'role', held,
    'jobs_channel', 'collab_jobs:' || ws::text,
    'events_channel', 'collab_events:' || ws::text);
end
$$;
comment on function api.whoami() is
  'The caller''s user id, the workspace their calls act in, their role there (service for the service role), and the LISTEN channels of that workspace: jobs_channel (runnable jobs, payload: queue names) and events_channel (new events).';
revoke all on function api.whoami() from public;
grant execute on function api.whoami() to authenticated, service_role;
