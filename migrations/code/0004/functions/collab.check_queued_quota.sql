-- The max_queued_jobs quota: enqueueing `adding` jobs may not take the workspace's queued jobs
-- beyond it (PT429 quota_exceeded). Only when a quota is set: then the count is an index-only
-- scan of at most max_queued_jobs entries (jobs_list_status_idx). Concurrent enqueues can
-- overshoot it by what they add together: a soft limit that takes no lock and no hot row.
create or replace function collab.check_queued_quota(workspace_id uuid, adding integer)
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  quota integer := (select w.max_queued_jobs from collab.workspaces w where w.id = check_queued_quota.workspace_id);
  queued integer;
begin
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
  'Raises PT429 quota_exceeded when enqueueing would take the workspace beyond its max_queued_jobs (a soft limit).';
