-- Wakes stream subscribers (`LISTEN collab_events`, empty payload), at most once per 50 ms
-- per session. A notifying transaction takes a cluster-wide lock at commit that serialises
-- it with every other notifying commit, so the hot paths (claim, complete) must not notify
-- on every transaction. Subscribers keep reading for a moment after each wake-up (and poll
-- anyway), so a wake-up skipped here delays nothing but a commit that comes more than that
-- moment after its statement; see docs/realtime.md.
create or replace function collab.notify_events()
returns void
language plpgsql
volatile
as $$
declare
  last_notified text := current_setting('collab.events_notified_at', true);
begin
  if last_notified is null or last_notified = ''
     or clock_timestamp() - last_notified::timestamptz > interval '50 milliseconds' then
    perform pg_notify('collab_events', '');
    perform set_config('collab.events_notified_at', clock_timestamp()::text, false);
  end if;
end
$$;
comment on function collab.notify_events() is
  'Notifies collab_events (empty payload) unless this session did within the last 50 ms.';
