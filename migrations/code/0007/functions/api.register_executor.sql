-- Register an executor (idempotent per name within the workspace) and mark it present. A new
-- executor, or one that was offline, gets an `executor_online` event in the same transaction.
create or replace function api.register_executor(
  name text,
  queues text[] default '{}',
  heartbeat_seconds integer default 5
)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  service boolean := collab.is_service_caller();
  q text;
  was_online boolean;
  ex collab.executors;
begin
  if register_executor.name is null or length(register_executor.name) not between 1 and 200 then
    perform collab.raise_error('PT400', 'invalid_input', 'name must be 1-200 characters', 'name');
  end if;
  if register_executor.heartbeat_seconds is null or register_executor.heartbeat_seconds not between 5 and 10 then
    perform collab.raise_error('PT400', 'invalid_input', 'heartbeat_seconds must be between 5 and 10', 'heartbeat_seconds');
  end if;
  if cardinality(register_executor.queues) > 100 then
    perform collab.raise_error('PT400', 'invalid_input',
      format('queues holds %s names; at most 100', cardinality(register_executor.queues)), 'queues');
  end if;
  foreach q in array coalesce(register_executor.queues, '{}') loop
    perform collab.check_name('queues', q);
  end loop;
  -- The previous presence, locked so that concurrent registrations emit one online event.
  select e.online into was_online from collab.executors e
   where e.workspace_id = ws and e.name = register_executor.name
     for update;
  insert into collab.executors as e (workspace_id, name, queues, user_id, heartbeat_seconds, online, last_seen_at)
  values (ws, register_executor.name, coalesce(register_executor.queues, '{}'), collab.caller_id(),
          register_executor.heartbeat_seconds, true, collab.clock())
  on conflict on constraint executors_name_unique do update
     set queues = excluded.queues, heartbeat_seconds = excluded.heartbeat_seconds,
         online = true, last_seen_at = excluded.last_seen_at
   where service or e.user_id is not distinct from excluded.user_id  -- an executor acts only as itself
  returning e.* into ex;
  if ex.id is null then
    perform collab.raise_error('PT403', 'forbidden',
      format('executor %s belongs to another user', quote_literal(register_executor.name)), 'name',
      'register under another name', jsonb_build_object('required_role', 'executor'));
  end if;
  if was_online is distinct from true then
    perform collab.record_presence(ex, 'executor_online');
  end if;
  return ex.id;
end
$$;
comment on function api.register_executor(text, text[], integer) is
  'Register (or re-register) the executor called name with the queues it serves; returns its id. heartbeat_seconds: 5-10, how often it will call api.heartbeat. Emits executor_online when it was new or offline.';
revoke all on function api.register_executor(text, text[], integer) from public;
grant execute on function api.register_executor(text, text[], integer) to authenticated, service_role;
