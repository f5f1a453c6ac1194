-- The partitions of collab.job_events (revision 0029) with their ranges of xid, read from the
-- catalog: from_xid null: unbounded below; from_xid and to_xid null: the default partition.
-- made_at and made_next_xid: when collab.ensure_event_partitions made it and the next xid
-- then (null for a partition it did not make); full_at: when it first saw the next xid at or
-- past to_xid (every event of the partition was created before then: an event's created_at is
-- its transaction's start, before the transaction took its xid). Kept in each partition's
-- comment, so the upkeep needs no table of its own.
create or replace function collab.event_partitions()
returns table (partition regclass, from_xid xid8, to_xid xid8, made_at timestamptz,
               made_next_xid xid8, full_at timestamptz)
language sql
stable
as $$
  select c.oid::regclass,
         (regexp_match(b.bound, $r$FROM \('([0-9]+)'\)$r$))[1]::xid8,
         (regexp_match(b.bound, $r$TO \('([0-9]+)'\)$r$))[1]::xid8,
         (regexp_match(d.note, $r$made at ([^;]+) when the next xid was [0-9]+$r$))[1]::timestamptz,
         (regexp_match(d.note, $r$when the next xid was ([0-9]+)$r$))[1]::xid8,
         (regexp_match(d.note, $r$full at ([^;]+)\.$r$))[1]::timestamptz
    from pg_catalog.pg_inherits i
    join pg_catalog.pg_class c on c.oid = i.inhrelid
    cross join lateral (select pg_catalog.pg_get_expr(c.relpartbound, c.oid) as bound,
                               pg_catalog.obj_description(c.oid, 'pg_class') as note) b
    cross join lateral (select b.note) d
   where i.inhparent = 'collab.job_events'::regclass
   order by 3 is null, 3
$$;
comment on function collab.event_partitions() is
  'Partitions of collab.job_events, oldest first, with the range of xid each holds (from_xid null: unbounded below; both null: the default partition, last), when collab.ensure_event_partitions made it and the next xid then, and when it was full.';
