-- Why a fenced call (complete, fail, progress) found no running job under that token:
-- PT404 job_not_found when the job is not in the workspace (neither in collab.jobs nor in
-- collab.job_history), else PT409 lease_lost.
create or replace function collab.lease_lost(job_id bigint, workspace_id uuid)
returns void
language plpgsql
volatile
as $$
declare
  st collab.job_status;
begin
  select j.status into st from collab.jobs j
   where j.id = lease_lost.job_id and j.workspace_id = lease_lost.workspace_id;
  if not found then
    st := (collab.finished_job(lease_lost.workspace_id, lease_lost.job_id)).status;
  end if;
  if st is null then
    perform collab.raise_error('PT404', 'job_not_found', format('job %s not found', lease_lost.job_id),
      'job_id', null, jsonb_build_object('job_id', lease_lost.job_id));
  end if;
  perform collab.raise_error('PT409', 'lease_lost',
    format('lease lost for job %s: the token is not the current lease (job is %s)', lease_lost.job_id, st),
    'lease_token', 'stop working on this job; its result is discarded',
    jsonb_build_object('job_id', lease_lost.job_id, 'status', st));
end
$$;
comment on function collab.lease_lost(bigint, uuid) is
  'Raises PT404 job_not_found or PT409 lease_lost for a fenced call that matched nothing.';
