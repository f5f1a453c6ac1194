-- Retention of the event stream without blocking writers: deletes at most batch_size of the
-- oldest events (in stream order, (xid, id)) created before now - older_than. Only a prefix of
-- the stream is ever deleted, and only below the metrics rollup horizon (events not yet rolled
-- up are kept), and the newest event is always kept, so that api.events_since can tell an
-- expired cursor (its event is gone and it lies before the oldest event kept) from a live
-- one. Plain DELETEs of old rows take no lock a writer waits for; call it in a loop (each
-- call its own transaction) until it returns 0.
create or replace function collab.purge_events(older_than interval, batch_size integer default 10000)
returns bigint
language plpgsql
volatile
as $$
declare
  cutoff timestamptz;
  horizon xid8;
  newest record;
  deleted bigint;
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
  'Deletes up to batch_size of the oldest job_events (a prefix of the stream, created before now - older_than, already rolled up into metrics, never the newest). Returns how many; call until 0.';
