-- Jobs reported on by lease token (complete, fail, progress, complete_batch) must be held by
-- one of the caller's own executors: a signed-in user can never settle another executor's
-- work, even holding its token. Unknown ids and jobs without an executor pass through, so the
-- caller raises its usual job_not_found / lease_lost. Service callers are not checked.
create or replace function collab.require_job_owner(job_ids bigint[], workspace_id uuid)
returns void
language plpgsql
stable
as $$
declare
  other bigint;
  live integer;
begin
  if collab.is_service_caller() or require_job_owner.job_ids is null then
    return;
  end if;
  select min(j.id) filter (where e.id is not null and e.user_id is distinct from collab.caller_id()),
         count(distinct j.id)
    into other, live
    from collab.jobs j left join collab.executors e on e.id = j.executor_id
   where j.id = any (require_job_owner.job_ids)
     -- Not an index condition: the rows are found by primary key (see api.complete_batch).
     and (j.workspace_id = require_job_owner.workspace_id) is true;
  -- Ids not in the hot table (a repeat after the job finished) are looked for in the history,
  -- each in the one partition collab.finished_job names; the common call, on live jobs only,
  -- never reads it.
  if other is null and live < cardinality(array(select distinct unnest(require_job_owner.job_ids))) then
    select h.id into other
      from unnest(require_job_owner.job_ids) i(id)
     cross join lateral collab.finished_job(require_job_owner.workspace_id, i.id) h
      join collab.executors e on e.id = h.executor_id
     where not exists (select 1 from collab.jobs j
                        where j.id = i.id and (j.workspace_id = require_job_owner.workspace_id) is true)
       and e.user_id is distinct from collab.caller_id()
     limit 1;
  end if;
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
