-- The max_queued_jobs quota: enqueueing (or requeueing) `adding` jobs may not take the
-- workspace's queued jobs beyond it (PT429 quota_exceeded). Only when a quota is set: then
-- the workspace row is locked (FOR NO KEY UPDATE, held to the end of the transaction; the
-- foreign-key checks of inserted jobs take KEY SHARE and do not wait on it) before counting,
-- so concurrent enqueuers of one workspace count one after the other, each seeing what the
-- previous one committed: a hard limit. The count is an index-only scan of at most
-- max_queued_jobs entries (jobs_list_status_idx). Without a quota: one primary-key read.
-- (Under REPEATABLE READ the count cannot see a later commit; PostgREST reads committed.)
-- Retries (a failed attempt, an expired lease) move a job back to queued without a check.
create or replace function collab.check_queued_quota(workspace_id uuid, adding integer)
returns void
language plpgsql
volatile
as $$
declare
  quota integer := (select w.max_queued_jobs from collab.workspaces w where w.id = check_queued_quota.workspace_id);
  queued integer;
begin
  if quota is null then
    return;
  end if;
  select w.max_queued_jobs into quota from collab.workspaces w
   where w.id = check_queued_quota.workspace_id
     for no key update;
  if quota is null then
    return;
  end if;
  select count(*) into queued from (
    select 1 from collab.jobs j
     where j.workspace_id = check_queued_quota.workspace_id and j.status = 'queued'
     limit quota) x;
  if queued + check_queued_quota.adding > quota then
    perform collab.raise_error('PT429', 'quota_exceeded',
      format('the workspace may have at most %s queued jobs (%s queued, %s more asked)',
             quota, queued, check_queued_quota.adding),
      'jobs', 'wait for executors to drain the queues, or ask an admin to raise max_queued_jobs',
      jsonb_build_object('quota', 'max_queued_jobs', 'limit', quota, 'queued', queued));
  end if;
end
$$;
comment on function collab.check_queued_quota(uuid, integer) is
  'Raises PT429 quota_exceeded when enqueueing or requeueing would take the workspace beyond its max_queued_jobs; serialized per workspace while a quota is set (a hard limit).';
