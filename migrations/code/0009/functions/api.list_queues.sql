-- The workspace's queues with their settings and how many jobs are in each state, by name,
-- one page at a time: at most `limit` (1-1000, default 100) queues named after `after` (the
-- last name of the previous page; null: from the first). Live jobs are counted in
-- collab.jobs, finished ones in collab.job_history.
create or replace function api.list_queues("limit" integer default 100, after text default null)
returns table (queue api.queue, queued bigint, running bigint, succeeded bigint, cancelled bigint, dead bigint)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.require_role('viewer');
  select collab.raise_error('PT400', 'invalid_input', 'limit must be between 1 and 1000', 'limit')
   where list_queues."limit" is null or list_queues."limit" not between 1 and 1000;
  select collab.queue_row(q),
         coalesce(c.queued, 0), coalesce(c.running, 0), coalesce(c.succeeded, 0),
         coalesce(c.cancelled, 0), coalesce(c.dead, 0)
    from (select x.* from collab.queues x
           where x.workspace_id = collab.current_workspace()
             and (list_queues.after is null or x.name > list_queues.after)
           order by x.name
           limit list_queues."limit") q
    left join lateral (
      select count(*) filter (where j.status = 'queued') as queued,
             count(*) filter (where j.status = 'running') as running,
             count(*) filter (where j.status = 'succeeded') as succeeded,
             count(*) filter (where j.status = 'cancelled') as cancelled,
             count(*) filter (where j.status = 'dead') as dead
        from (select x.status from collab.jobs x
               where x.workspace_id = q.workspace_id and x.queue = q.name
              union all
              select h.status from collab.job_history h
               where h.workspace_id = q.workspace_id and h.queue = q.name) j) c on true
   order by q.name
$$;
comment on function api.list_queues(integer, text) is
  'Queues of the workspace with their settings and the number of jobs per state, by name: at most limit (1-1000, default 100) queues after the name `after` (the last one of the previous page).';
revoke all on function api.list_queues(integer, text) from public;
grant execute on function api.list_queues(integer, text) to authenticated, service_role;
