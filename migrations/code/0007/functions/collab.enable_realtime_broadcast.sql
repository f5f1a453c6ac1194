-- Supabase Realtime broadcast, only where realtime.send exists (Supabase): creates the
-- trigger function collab.broadcast_events and attaches it to job_events, so that each
-- statement that writes events sends one message per workspace on the private topic
-- `workspace:<workspace_id>:events` (event `job_events`). Up to 100 events are carried in full;
-- a bigger statement (a batch enqueue) sends their count and cursor range instead (read them
-- with api.events_since). Who may receive a topic is decided by the RLS policy this function
-- puts on realtime.messages (collab_workspace_events_receive: members of the workspace, through
-- api.may_receive). Plain Postgres gets neither function nor trigger and pays nothing. Run
-- by every migration (sql/triggers/collab.job_events.job_events_broadcast.sql); returns
-- whether the broadcast is attached.
create or replace function collab.enable_realtime_broadcast()
returns boolean
language plpgsql
volatile
as $$
begin
  if to_regprocedure('realtime.send(jsonb,text,text,boolean)') is null then
    return false;
  end if;
  execute $ddl$
    create or replace function collab.broadcast_events()
    returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $fn$
    declare
      msg record;
    begin
      for msg in
        select n.workspace_id, count(*) as n,
               (array_agg(n.xid::text || ':' || n.id order by n.xid, n.id))[1] as first_cursor,
               (array_agg(n.xid::text || ':' || n.id order by n.xid desc, n.id desc))[1] as last_cursor,
               jsonb_agg(jsonb_build_object(
                 'id', n.id, 'job_id', n.job_id, 'type', n.type, 'queue', n.queue,
                 'job_type', n.job_type, 'attempt', n.attempt, 'executor_id', n.executor_id,
                 'data', n.data, 'created_at', n.created_at, 'cursor', n.xid::text || ':' || n.id)
                 order by n.xid, n.id) as events
          from new_events n
         group by n.workspace_id
      loop
        perform realtime.send(
          case when msg.n <= 100 then jsonb_build_object('events', msg.events)
               else jsonb_build_object('count', msg.n, 'first_cursor', msg.first_cursor,
                                       'last_cursor', msg.last_cursor) end,
          'job_events', 'workspace:' || msg.workspace_id || ':events', true);
      end loop;
      return null;
    end
    $fn$
  $ddl$;
  execute $ddl$
    comment on function collab.broadcast_events() is
      'Trigger (Supabase only, see collab.enable_realtime_broadcast): broadcasts the events of a statement per workspace on topic workspace:<id>:events via realtime.send.'
  $ddl$;
  execute 'revoke all on function collab.broadcast_events() from public';
  -- Who receives a topic: members of its workspace (api.may_receive), on private channels.
  if to_regclass('realtime.messages') is not null then
    drop policy if exists collab_workspace_events_receive on realtime.messages;
    create policy collab_workspace_events_receive on realtime.messages
      for select to authenticated
      using (realtime.messages.extension = 'broadcast' and api.may_receive(realtime.topic()));
  end if;
  drop trigger if exists job_events_broadcast on collab.job_events;
  create trigger job_events_broadcast
  after insert on collab.job_events
  referencing new table as new_events
  for each statement execute function collab.broadcast_events();
  return true;
end
$$;
comment on function collab.enable_realtime_broadcast() is
  'Creates and attaches the Supabase Realtime broadcast trigger (collab.broadcast_events) on job_events when realtime.send exists; returns whether it did.';
