-- Retention of the event stream (revision 0029: by partition). Drops the oldest range
-- partitions of collab.job_events (collab.event_partitions) whose every event was created
-- before now - older_than (the partition was full before then: collab.ensure_event_partitions
-- marks it) and was rolled up into the metrics (its whole xid range is below the rollup
-- horizon), never the one holding the newest event, so that api.events_since can still tell
-- an expired cursor (its event is gone and it lies before the oldest event kept) from a live
-- one. A partition holds whole transactions and the oldest go first, so what goes is always a
-- prefix of the stream; the events the default partition took below the last range dropped
-- (before the first range was made, or while upkeep was behind: collab.ensure_event_partitions)
-- are deleted with them, so what goes stays a prefix. Dropping takes the parent's lock for a
-- moment (catalog changes only: the events are counted and the default's deleted before it):
-- tried with a 200 ms lock_timeout, and when busy (a long read of the stream), 55P03
-- lock_not_available and nothing is removed; call again. Events are kept until their whole
-- partition is old enough: up to the span of one partition (a day,
-- collab.ensure_event_partitions) longer than asked.
-- A database with no range partition yet (a new one, before the first reap) deletes at most
-- batch_size of the oldest such events instead, as before revision 0029. Returns how many
-- events it removed; call until 0.
create or replace function collab.purge_events(older_than interval, batch_size integer default 10000)
returns bigint
language plpgsql
volatile
as $$
declare
  cutoff timestamptz;
  horizon xid8;
  newest record;
  p record;
  part regclass;
  doomed regclass[];
  bound xid8;
  n bigint;
  removed bigint := 0;
  deleted bigint;
  old_lock_timeout text := current_setting('lock_timeout');
begin
  if purge_events.older_than is null or purge_events.older_than < interval '0' then
    perform collab.raise_error('PT400', 'invalid_input', 'older_than must be a non-negative interval', 'older_than');
  end if;
  -- Bounded above too: now - older_than must stay a timestamp (else 22008, an internal error).
  if purge_events.older_than > interval '1000 years' then
    perform collab.raise_error('PT400', 'invalid_input', 'older_than must be at most 1000 years', 'older_than');
  end if;
  if purge_events.batch_size is null or purge_events.batch_size not between 1 and 1000000 then
    perform collab.raise_error('PT400', 'invalid_input', 'batch_size must be between 1 and 1000000', 'batch_size');
  end if;
  cutoff := collab.clock() - purge_events.older_than;
  select s.horizon into horizon from collab.metrics_rollup_state s;
  select e.xid, e.id into newest from collab.job_events e order by e.xid desc, e.id desc limit 1;
  if newest is null then
    return 0;
  end if;
  -- The ranges, oldest first (collab.event_partitions lists the default partition last);
  -- FOUND after the loop: there is one.
  for p in select * from collab.event_partitions() x where x.to_xid is not null loop
    exit when p.full_at is null or p.full_at >= cutoff
           or p.to_xid > coalesce(horizon, '0'::xid8) or p.to_xid > newest.xid;
    doomed := doomed || p.partition;
    bound := p.to_xid;
  end loop;
  if found then
    if doomed is null then
      return 0;
    end if;
    -- Counted before the lock: no transaction can write to a range below the horizon any
    -- more, and a count of a day of events would hold every job change up for seconds.
    foreach part in array doomed loop
      execute format('select count(*) from %s', part) into n;
      removed := removed + n;
    end loop;
    -- Below the end of the last range dropped (below the horizon: no transaction writes there).
    with gone as (delete from collab.job_events_default d where d.xid < bound returning 1)
    select removed + count(*) into removed from gone;
    perform set_config('lock_timeout', '200ms', true);
    lock table only collab.job_events in access exclusive mode;
    perform set_config('lock_timeout', old_lock_timeout, true);
    foreach part in array doomed loop
      execute format('drop table %s', part);
    end loop;
    return removed;
  end if;
  with candidates as (
    select e.xid, e.id, e.created_at from collab.job_events e
     where e.xid < coalesce(horizon, '0'::xid8)
       and (e.xid, e.id) < (newest.xid, newest.id)
     order by e.xid, e.id
     limit purge_events.batch_size
  ), stop as (
    -- The stream prefix ends at the first event still young enough to keep.
    select c.xid, c.id from candidates c where c.created_at >= cutoff order by c.xid, c.id limit 1
  ), gone as (
    delete from collab.job_events e
     using candidates c
     where e.xid = c.xid and e.id = c.id
       and not exists (select 1 from stop s where (c.xid, c.id) >= (s.xid, s.id))
    returning 1
  )
  select count(*) into deleted from gone;
  return deleted;
end
$$;
comment on function collab.purge_events(interval, integer) is
  'Drops the oldest partitions of collab.job_events whose events were all created before now - older_than and rolled up into metrics, never the newest event''s (a prefix of the stream); with no range partition yet, deletes up to batch_size of the oldest such events instead. Returns how many events it removed; call until 0.';
