-- The event stream, gap-free: events come in (xid, id) order and only from transactions
-- older than every transaction still running (below the snapshot's xmin). A transaction
-- that commits late therefore cannot slip an event behind a cursor already handed out,
-- and events of rolled-back transactions never appear. Follow `cursor` from row to row.
-- Retention (collab.purge_events) deletes a prefix of the stream: a cursor whose own event
-- is gone and that lies before the oldest event kept may have missed purged events, so it is
-- refused with PT410 cursor_expired (resync from the current state, then follow cursor null).
-- The stream is partitioned by xid (revision 0029): `e.xid >= after_xid`, implied by the
-- cursor's row comparison, lets the partitions wholly before the cursor be skipped.
create or replace function api.events_since(
  cursor text default null,
  "limit" integer default 1000,
  queue text default null,
  job_id bigint default null,
  types text[] default null
)
returns setof api.event
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  after_xid xid8 := '0';
  after_id bigint := 0;
  oldest record;
begin
  if events_since."limit" is null or events_since."limit" not between 1 and 10000 then
    perform collab.raise_error('PT400', 'invalid_input', 'limit must be between 1 and 10000', 'limit');
  end if;
  if events_since.types is not null
     and (cardinality(events_since.types) > 100
          or not events_since.types <@ enum_range(null::collab.job_event_type)::text[]) then
    perform collab.raise_error('PT400', 'invalid_input',
      'types must hold at most 100 event types (enqueued, claimed, progress, succeeded, retry_scheduled, lease_expired, lease_released, dead, cancel_requested, cancelled, requeued, executor_online, executor_offline)',
      'types');
  end if;
  if events_since.cursor is not null then
    begin
      after_xid := split_part(events_since.cursor, ':', 1)::xid8;
      after_id := split_part(events_since.cursor, ':', 2)::bigint;
    exception when others then
      perform collab.raise_error('PT400', 'invalid_input', 'cursor is not a cursor returned by events_since', 'cursor');
    end;
    -- Both lookups stay inside the caller's workspace: another tenant's events are neither
    -- an oracle (does id N exist?) nor a cursor to hand out (finding 7 of the security review).
    -- The cursor's event is found by its whole key (xid, id): the primary key, which is the
    -- stream's order (revision 0012).
    if after_id > 0 and not exists (select 1 from collab.job_events e
                                     where e.xid = after_xid and e.id = after_id
                                       and e.workspace_id = ws) then
      select e.xid, e.id into oldest from collab.job_events e
       where e.workspace_id = ws order by e.xid, e.id limit 1;
      if oldest is null or (after_xid, after_id) < (oldest.xid, oldest.id) then
        perform collab.raise_error('PT410', 'cursor_expired',
          format('cursor %s is older than the oldest retained event', events_since.cursor), 'cursor',
          'events after this cursor may have been purged: resync from the current state (api.list_jobs), then follow a fresh cursor',
          jsonb_build_object('oldest_cursor', case when oldest is null then null else oldest.xid::text || ':' || oldest.id end));
      end if;
    end if;
  end if;
  return query
  select e.id, e.job_id, e.type::text, e.queue, e.job_type, e.attempt, e.executor_id, e.data,
         e.created_at, e.xid::text || ':' || e.id
    from collab.job_events e
   where (e.xid, e.id) > (after_xid, after_id)
     and e.xid >= after_xid
     and e.xid < pg_snapshot_xmin(pg_current_snapshot())
     and e.workspace_id = ws
     and (events_since.queue is null or e.queue = events_since.queue)
     and (events_since.job_id is null or e.job_id = events_since.job_id)
     and (events_since.types is null or e.type::text = any(events_since.types))
   order by e.xid, e.id
   limit events_since."limit";
end
$$;
comment on function api.events_since(text, integer, text, bigint, text[]) is
  'Events after cursor (null: from the start), in commit-safe order: never misses or repeats an event when followed cursor to cursor. Filters: queue, job_id, types.';
revoke all on function api.events_since(text, integer, text, bigint, text[]) from public;
grant execute on function api.events_since(text, integer, text, bigint, text[]) to authenticated, service_role;
