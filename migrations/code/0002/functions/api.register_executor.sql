-- Register an executor (idempotent per name within the workspace) and mark it present.
create or replace function api.register_executor(
  name text,
  queues text[] default '{}',
  heartbeat_seconds integer default 5
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.current_workspace();
  q text;
  id_ uuid;
begin
  if register_executor.name is null or length(register_executor.name) not between 1 and 200 then
    perform collab.raise_error('PT400', 'invalid_input', 'name must be 1-200 characters', 'name');
  end if;
  if register_executor.heartbeat_seconds is null or register_executor.heartbeat_seconds not between 5 and 10 then
    perform collab.raise_error('PT400', 'invalid_input', 'heartbeat_seconds must be between 5 and 10', 'heartbeat_seconds');
  end if;
  foreach q in array coalesce(register_executor.queues, '{}') loop
    perform collab.check_name('queues', q);
  end loop;
  insert into collab.executors as e (workspace_id, name, queues, user_id, heartbeat_seconds, online, last_seen_at)
  values (ws, register_executor.name, coalesce(register_executor.queues, '{}'), auth.uid(),
          register_executor.heartbeat_seconds, true, collab.clock())
  on conflict on constraint executors_name_unique do update
     set queues = excluded.queues, heartbeat_seconds = excluded.heartbeat_seconds,
         online = true, last_seen_at = excluded.last_seen_at
  returning e.id into id_;
  return id_;
end
$$;
comment on function api.register_executor(text, text[], integer) is
  'Register (or re-register) the executor called name with the queues it serves; returns its id. heartbeat_seconds: 5-10, how often it will call api.heartbeat.';
revoke all on function api.register_executor(text, text[], integer) from public;
grant execute on function api.register_executor(text, text[], integer) to authenticated, service_role;
