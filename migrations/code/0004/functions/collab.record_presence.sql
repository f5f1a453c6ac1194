-- Writes one presence event (executor_online or executor_offline) into the stream, in the
-- caller's transaction, so the event exists if and only if the presence change committed;
-- wakes stream subscribers (`collab_events`). Presence events have no job (job_id null).
create or replace function collab.record_presence(executor collab.executors, type collab.job_event_type)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if record_presence.type not in ('executor_online', 'executor_offline') then
    perform collab.raise_error('PT400', 'invalid_input', 'type must be executor_online or executor_offline', 'type');
  end if;
  insert into collab.job_events (workspace_id, job_id, type, executor_id, data, created_at)
  values ((record_presence.executor).workspace_id, null, record_presence.type,
          (record_presence.executor).id,
          jsonb_build_object('name', (record_presence.executor).name,
                             'queues', to_jsonb((record_presence.executor).queues),
                             'heartbeat_seconds', (record_presence.executor).heartbeat_seconds,
                             'last_seen_at', (record_presence.executor).last_seen_at),
          collab.clock());
  perform collab.notify_events();
end
$$;
comment on function collab.record_presence(collab.executors, collab.job_event_type) is
  'Writes an executor_online / executor_offline event for the executor (job_id null) and notifies collab_events.';
