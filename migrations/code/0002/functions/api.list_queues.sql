-- The workspace's queues with their settings and how many jobs are in each state.
create or replace function api.list_queues()
returns table (queue api.queue, queued bigint, running bigint, succeeded bigint, cancelled bigint, dead bigint)
language sql
stable
security definer
set search_path = ''
as $$
  select collab.queue_row(q),
         coalesce(c.queued, 0), coalesce(c.running, 0), coalesce(c.succeeded, 0),
         coalesce(c.cancelled, 0), coalesce(c.dead, 0)
    from collab.queues q
    left join lateral (
      select count(*) filter (where j.status = 'queued') as queued,
             count(*) filter (where j.status = 'running') as running,
             count(*) filter (where j.status = 'succeeded') as succeeded,
             count(*) filter (where j.status = 'cancelled') as cancelled,
             count(*) filter (where j.status = 'dead') as dead
        from collab.jobs j
       where j.workspace_id = q.workspace_id and j.queue = q.name) c on true
   where q.workspace_id = collab.current_workspace()
   order by q.name
$$;
comment on function api.list_queues() is
  'Queues of the workspace with their settings and the number of jobs per state.';
revoke all on function api.list_queues() from public;
grant execute on function api.list_queues() to authenticated, service_role;
