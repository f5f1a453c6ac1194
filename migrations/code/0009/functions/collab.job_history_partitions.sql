-- The partitions of collab.job_history with their ranges of finished_at (from_at null: from
-- the beginning; both null: the default partition), read from the catalog.
create or replace function collab.job_history_partitions()
returns table (partition regclass, from_at timestamptz, to_at timestamptz)
language sql
stable
as $$
  select c.oid::regclass,
         (regexp_match(b.bound, $r$FROM \('([^']*)'\)$r$))[1]::timestamptz,
         (regexp_match(b.bound, $r$TO \('([^']*)'\)$r$))[1]::timestamptz
    from pg_catalog.pg_inherits i
    join pg_catalog.pg_class c on c.oid = i.inhrelid
    cross join lateral (select pg_catalog.pg_get_expr(c.relpartbound, c.oid) as bound) b
   where i.inhparent = 'collab.job_history'::regclass
   order by 3 nulls first
$$;
comment on function collab.job_history_partitions() is
  'Partitions of collab.job_history and the range of finished_at each holds (from_at null: unbounded below; from_at and to_at null: the default partition).';
