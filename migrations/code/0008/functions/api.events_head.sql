-- Where to start following the event stream "from now": a cursor for api.events_since that
-- skips every event of a transaction finished before this call and hands out every event of
-- the others (still running, or committed since). Read the current state (api.list_jobs, ...)
-- after this call, then follow from the cursor: nothing is missed; an event whose change the
-- state already shows may come again (apply events idempotently). The cursor is
-- "<snapshot xmin>:0": events_since serves only events below the xmin of its own snapshot, so
-- the events below this one were all served or skipped; it names no event (no expiry).
create or replace function api.events_head()
returns text
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform collab.require_role('viewer');
  return pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text || ':0';
end
$$;
comment on function api.events_head() is
  'A cursor for api.events_since that starts at the live end of the stream: events of transactions finished before the call are skipped, none after it is missed. Read the current state after calling it, then follow the cursor.';
revoke all on function api.events_head() from public;
grant execute on function api.events_head() to authenticated, service_role;
