-- Presence of the caller's executors, computed from collab.clock(): `online` while heard from
-- within one heartbeat interval, `stale` when silent for more than one, `offline` when
-- silent for more than three or marked offline by collab.reap (which releases its jobs).
create or replace function api.list_executors()
returns table (
  id uuid,
  name text,
  queues text[],
  heartbeat_seconds integer,
  status text,
  last_seen_at timestamptz,
  silent_seconds double precision,
  running_jobs integer,
  created_at timestamptz
)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.require_role('viewer');
  select e.id, e.name, e.queues, e.heartbeat_seconds,
         case when not e.online
                or e.last_seen_at < collab.clock() - make_interval(secs => 3 * e.heartbeat_seconds) then 'offline'
              when e.last_seen_at < collab.clock() - make_interval(secs => e.heartbeat_seconds) then 'stale'
              else 'online' end,
         e.last_seen_at,
         greatest(extract(epoch from collab.clock() - e.last_seen_at)::double precision, 0),
         (select count(*)::integer from collab.jobs j where j.executor_id = e.id and j.status = 'running'),
         e.created_at
    from collab.executors e
   where e.workspace_id = collab.current_workspace()
   order by e.name
$$;
comment on function api.list_executors() is
  'Executors of the caller''s workspace with their presence: online (heard from within heartbeat_seconds), stale (silent longer), offline (silent for 3 intervals or marked offline); running_jobs: leases held.';
revoke all on function api.list_executors() from public;
grant execute on function api.list_executors() to authenticated, service_role;
