-- Jobs reported on by lease token (complete, fail, progress, complete_batch) must be held by
-- one of the caller's own executors: a signed-in user can never settle another executor's
-- work, even holding its token. Unknown ids and jobs without an executor pass through, so the
-- caller raises its usual job_not_found / lease_lost. Service callers are not checked.
create or replace function collab.require_job_owner(job_ids bigint[], workspace_id uuid)
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  other bigint;
begin
  if collab.is_service_caller() or require_job_owner.job_ids is null then
    return;
  end if;
  select j.id into other
    from collab.jobs j join collab.executors e on e.id = j.executor_id
   where j.id = any (require_job_owner.job_ids)
     and j.workspace_id = require_job_owner.workspace_id
     and e.user_id is distinct from auth.uid()
   limit 1;
  if other is not null then
    perform collab.raise_error('PT403', 'forbidden',
      format('job %s is held by another user''s executor', other), 'job_id',
      'only the executor holding a job may report on it',
      jsonb_build_object('required_role', 'executor', 'job_id', other));
  end if;
end
$$;
comment on function collab.require_job_owner(bigint[], uuid) is
  'Raises PT403 forbidden when a signed-in user reports on a job held by an executor that is not theirs.';
