-- The executor a call acts as: it must exist in the caller's workspace and, for a signed-in
-- user, be theirs (executors.user_id = auth.uid()): an executor acts only as itself.
create or replace function collab.require_executor(executor_id uuid, workspace_id uuid)
returns collab.executors
language plpgsql
stable
as $$
declare
  ex collab.executors;
begin
  if require_executor.executor_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'executor_id is required', 'executor_id');
  end if;
  select * into ex from collab.executors e
   where e.id = require_executor.executor_id and e.workspace_id = require_executor.workspace_id;
  if not found then
    perform collab.raise_error('PT404', 'executor_not_found',
      format('executor %s not found', require_executor.executor_id), 'executor_id',
      'register with api.register_executor first');
  end if;
  if ex.user_id is distinct from auth.uid() and not collab.is_service_caller() then
    perform collab.raise_error('PT403', 'forbidden',
      format('executor %s belongs to another user', require_executor.executor_id), 'executor_id',
      'use the executor id api.register_executor returned to you',
      jsonb_build_object('required_role', 'executor'));
  end if;
  return ex;
end
$$;
comment on function collab.require_executor(uuid, uuid) is
  'Returns the executor if it belongs to the workspace (else PT404 executor_not_found) and, for a signed-in user, to that user (else PT403 forbidden).';
