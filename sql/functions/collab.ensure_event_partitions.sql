-- Partition upkeep of collab.job_events (revision 0029): keeps a range partition ahead of the
-- next xid, so that events land in ranges retention can drop whole (collab.purge_events), and
-- marks the ranges the next xid has passed as full, with the time (every event of a full range
-- was created before then: an event's created_at is its transaction's start, before the
-- transaction took its xid). The next xid is the one snapshots see, one past the newest
-- finished transaction.
--
-- When less than half a range's width of xids is left above the next xid (or there is no range
-- yet), it makes one range, [from, from + the width), named job_events_<from> with row level
-- security on, the service role's grants and the statistics targets, as the parent
-- (collab.copy_statistics_targets). It starts where the last range ends, or, when that is
-- less than a margin above the next xid (no range yet; upkeep fell behind), a margin above
-- the next xid: the lesser of 2^14 xids and a quarter of the width.
-- A range never covers an xid a transaction may already hold: that transaction's event, once
-- routed to the default partition, waits for the default's lock while the range is made, and
-- Postgres then checks the default's new bounds: had the range taken its xid, the insert, and
-- the job change with it, would fail (check_violation). What the default took below the new
-- range stays there (retention removes it with the ranges above it, collab.purge_events).
-- The width is the number of xids
-- the database took over `span` at the rate since the last range it made (at least 2^16, at
-- most 2^31; the last range's width when that was under a minute ago, 2^20 the first time),
-- so a range holds about `span` of transactions; or `width`, when given (1 - 2^31). Rows the
-- default partition holds for the new range (none, but for a database taking more than the
-- margin in xids while the range is made) move into it. Making a range locks the default
-- partition for a moment
-- (readers of the stream and inserts routed to it wait; other inserts go on: ATTACH
-- PARTITION takes SHARE UPDATE EXCLUSIVE on the parent): tried with a 200 ms lock_timeout
-- and, when busy, left to the next call (collab.reap runs it every minute). Returns how many
-- ranges it made (0 or 1). When and the next xid then are kept in the range's comment
-- (collab.event_partitions reads them back), so the upkeep needs no table of its own.
create or replace function collab.ensure_event_partitions(span interval default interval '1 day',
                                                          width bigint default null)
returns integer
language plpgsql
volatile
as $$
declare
  now_ timestamptz := collab.clock();
  next_xid xid8 := pg_snapshot_xmax(pg_current_snapshot());
  top_from xid8;
  top_to xid8;
  last_made_at timestamptz;
  last_made_next xid8;
  p record;
  wide numeric;
  lo xid8;
  hi xid8;
  part_name text;
  cols text;
  old_lock_timeout text := current_setting('lock_timeout');
begin
  if span is null or span < interval '1 minute' or span > interval '366 days' then
    perform collab.raise_error('PT400', 'invalid_input', 'span must be between 1 minute and 366 days', 'span');
  end if;
  if ensure_event_partitions.width is not null and ensure_event_partitions.width not between 1 and 2147483648 then
    perform collab.raise_error('PT400', 'invalid_input', 'width must be between 1 and 2147483648', 'width');
  end if;
  -- One pass over the ranges, oldest first: the last (top_*), the one made last (last_made_*),
  -- and full: the ranges the next xid has passed, marked once each. The comment takes SHARE
  -- UPDATE EXCLUSIVE on the partition (an autovacuum of it holds that too): busy, it is left
  -- to the next call, which records a later time (retention then waits a little longer,
  -- never less).
  for p in select * from collab.event_partitions() x where x.to_xid is not null loop
    top_from := p.from_xid;
    top_to := p.to_xid;
    if p.made_at > coalesce(last_made_at, '-infinity') then
      last_made_at := p.made_at;
      last_made_next := p.made_next_xid;
    end if;
    continue when p.to_xid > next_xid or p.full_at is not null;
    begin
      perform set_config('lock_timeout', '200ms', true);
      execute format('comment on table %s is %L', p.partition,
                     format('Events of the transactions with xid in [%s, %s)%s; full at %s.',
                            coalesce(p.from_xid::text, 'the first'), p.to_xid,
                            case when p.made_at is null then ''
                                 else format('; made at %s when the next xid was %s', p.made_at, p.made_next_xid) end,
                            now_));
      perform set_config('lock_timeout', old_lock_timeout, true);
    exception when lock_not_available then
      perform set_config('lock_timeout', old_lock_timeout, true);
    end;
  end loop;
  if ensure_event_partitions.width is not null then
    wide := ensure_event_partitions.width;
  elsif now_ - last_made_at >= interval '1 minute' then
    wide := ceil((next_xid::text::numeric - last_made_next::text::numeric)
                  / extract(epoch from now_ - last_made_at) * extract(epoch from span));
    wide := least(greatest(wide, 65536), 2147483648);
  elsif top_from is not null then
    wide := top_to::text::numeric - top_from::text::numeric;
  else
    wide := 1048576;
  end if;
  if top_to::text::numeric - next_xid::text::numeric >= wide / 2 then
    return 0;
  end if;
  lo := greatest(top_to::text::numeric,
                 next_xid::text::numeric + least(16384, floor(wide / 4)))::text::xid8;
  hi := (lo::text::numeric + wide)::text::xid8;
  part_name := 'job_events_' || lo::text;
  select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols
    from pg_catalog.pg_attribute a
   where a.attrelid = 'collab.job_events'::regclass and a.attnum > 0 and not a.attisdropped;
  begin
    perform set_config('lock_timeout', '200ms', true);
    lock table collab.job_events_default in access exclusive mode;
    execute format('create table collab.%I (like collab.job_events including defaults including constraints)', part_name);
    execute format('alter table collab.%I add constraint %I check (xid >= %L and xid < %L)',
                   part_name, part_name || '_range', lo, hi);
    execute format('with moved as (delete from collab.job_events_default d where d.xid >= %L and d.xid < %L returning %s)
                    insert into collab.%I (%s) select %s from moved',
                   lo, hi, cols, part_name, cols, cols);
    execute format('alter table collab.job_events attach partition collab.%I for values from (%L) to (%L)',
                   part_name, lo, hi);
    execute format('alter table collab.%I drop constraint %I', part_name, part_name || '_range');
    perform collab.copy_statistics_targets('collab.job_events', format('collab.%I', part_name)::regclass);
    execute format('alter table collab.%I enable row level security', part_name);
    execute format('grant select, insert, update, delete on collab.%I to service_role', part_name);
    execute format('comment on table collab.%I is %L', part_name,
                   format('Events of the transactions with xid in [%s, %s); made at %s when the next xid was %s.',
                          lo, hi, now_, next_xid));
    perform set_config('lock_timeout', old_lock_timeout, true);
    return 1;
  exception when lock_not_available then
    perform set_config('lock_timeout', old_lock_timeout, true);
    return 0;
  end;
end
$$;
comment on function collab.ensure_event_partitions(interval, bigint) is
  'Keeps a range partition of collab.job_events ahead of the next xid (never covering an xid already taken), sized for about span (1 minute - 366 days) of transactions at the recent rate (or width xids, 1 - 2^31), and marks the partitions the next xid has passed as full; a busy lock leaves it to the next call. Returns how many partitions it made (0 or 1).';
