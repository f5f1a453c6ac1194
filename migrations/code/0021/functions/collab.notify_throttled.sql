-- The window the wake-ups that must not notify on every transaction share: notifies `channel`
-- with `payload` unless this session did so for the same `stamp` (a setting name: one per
-- kind of wake-up and workspace) within the last 50 ms, and stamps the session when it
-- does. A notifying transaction takes a cluster-wide lock at commit that serialises it with
-- every other notifying commit, so the hot paths (claim, complete) must not notify at every
-- call (docs/realtime.md). The stamp is session-level, so a transaction that rolls back takes
-- its stamp with it (its notification was never sent either). Callers:
-- collab.notify_events (the stream) and collab.notify_jobs_later (jobs due later), each one
-- SQL expression the planner inlines into its caller's statement, so the window costs one
-- PL/pgSQL call, as it did inside each of them.
create or replace function collab.notify_throttled(stamp text, channel text, payload text)
returns void
language plpgsql
volatile
as $$
declare
  last_notified text := current_setting(notify_throttled.stamp, true);
begin
  if last_notified is null or last_notified = ''
     or clock_timestamp() - last_notified::timestamptz > interval '50 milliseconds' then
    perform pg_notify(notify_throttled.channel, notify_throttled.payload);
    perform set_config(notify_throttled.stamp, clock_timestamp()::text, false);
  end if;
end
$$;
comment on function collab.notify_throttled(text, text, text) is
  'Notifies channel with payload unless this session did for the same stamp (a setting name) within the last 50 ms; stamps the session when it notifies.';
