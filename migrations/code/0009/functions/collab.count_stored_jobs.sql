-- The stored_jobs limit (finding 4), enforced off the hot path: no trigger and no counter row
-- on collab.jobs, so enqueue, claim and complete pay nothing for it. Counts the jobs (any
-- status, live in collab.jobs or finished in collab.job_history) of workspaces with a
-- bounded index-only count (at most limit + 1 index entries
-- each) and records it on the workspace row: stored_jobs, stored_jobs_counted_at,
-- stored_jobs_counted_id, and stored_jobs_full (count >= limit), which api.enqueue and
-- api.enqueue_batch read with the workspace row they already read (PT429 quota_exceeded
-- stored_jobs while set).
-- With workspace_id: that workspace (api.configure_limits). Without: what collab.reap counts,
-- only the workspaces whose count could matter: full ones (the flag clears once purges bring
-- the count under the limit), never counted ones, those whose last count plus every job id
-- handed out since (an upper bound on what they can have added) reaches their limit, and
-- each workspace at least hourly (jobs of a transaction still open at a count are seen by
-- neither the count nor that bound).
-- The reaper skips a workspace whose row another transaction holds (a queue or executor
-- being created, a quota'd enqueue): it never waits on a tenant, and counts it next time.
-- The bound this gives, stated in docs/security.md: a workspace can go over its limit by
-- what it enqueues between two counts (one minute with pg_cron; reap more often to tighten
-- it). Returns the number of workspaces counted.
create or replace function collab.count_stored_jobs(workspace_id uuid default null)
returns integer
language plpgsql
volatile
as $$
declare
  -- Read before the count: every job with a higher id is in the next bound. The last id the
  -- identity handed out (finished jobs have left collab.jobs, so its max(id) is no bound).
  last_id bigint := coalesce(pg_catalog.pg_sequence_last_value('collab.jobs_id_seq'::regclass), 0);
  now_ timestamptz := collab.clock();
  ids uuid[];
  n integer;
begin
  if count_stored_jobs.workspace_id is not null then
    ids := array[count_stored_jobs.workspace_id];
  else
    ids := array(
      select w.id
        from collab.workspaces w cross join collab.platform_limits p
       where w.stored_jobs_full
          or w.stored_jobs_counted_at is null
          or w.stored_jobs_counted_at < now_ - interval '1 hour'
          or w.stored_jobs + greatest(last_id - w.stored_jobs_counted_id, 0)
             >= coalesce(w.limit_stored_jobs, p.stored_jobs_per_workspace)
         for no key update of w skip locked);
  end if;
  update collab.workspaces w
     set stored_jobs = c.stored,
         stored_jobs_full = c.stored >= c.cap,
         stored_jobs_counted_at = now_,
         stored_jobs_counted_id = greatest(last_id, w.stored_jobs_counted_id)
    from (select x.id, x.cap,
                 (select count(*) from (select 1 from collab.jobs j where j.workspace_id = x.id
                                        union all
                                        select 1 from collab.job_history h where h.workspace_id = x.id
                                        limit x.cap + 1) s) as stored
            from (select v.id, coalesce(v.limit_stored_jobs, p.stored_jobs_per_workspace) as cap
                    from collab.workspaces v cross join collab.platform_limits p
                   where v.id = any(ids)) x) c
   where w.id = c.id;
  get diagnostics n = row_count;
  return n;
end
$$;
comment on function collab.count_stored_jobs(uuid) is
  'Counts the stored jobs (any status, at most limit + 1) of one workspace, or of those whose count could reach their stored_jobs limit (collab.reap), and sets workspaces.stored_jobs_full, which enqueue refuses on (PT429 quota_exceeded stored_jobs). Returns the number of workspaces counted.';
