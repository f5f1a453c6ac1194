-- Gives to_table the statistics targets set on from_table's columns (those at the default are
-- left alone), in one ALTER TABLE; for the partitions that collab.ensure_event_partitions and
-- collab.ensure_job_history_partitions make, which Postgres gives the default target whatever
-- their parent has. The event stream and the history are analyzed from 3,000 rows (target 10,
-- revisions 0013 and 0030): ANALYZE holds a snapshot while it reads its sample, and while it
-- does no claimed job's entry in the claim index can be marked dead.
create or replace function collab.copy_statistics_targets(from_table regclass, to_table regclass)
returns void
language plpgsql
volatile
as $$
declare
  targets text;
begin
  select string_agg(format('alter column %I set statistics %s', a.attname, a.attstattarget), ', '
                    order by a.attnum)
    into targets
    from pg_catalog.pg_attribute a
   where a.attrelid = copy_statistics_targets.from_table and a.attnum > 0
     and not a.attisdropped and a.attstattarget >= 0;
  if targets is not null then
    execute format('alter table %s %s', copy_statistics_targets.to_table, targets);
  end if;
end
$$;
comment on function collab.copy_statistics_targets(regclass, regclass) is
  'Sets on to_table''s columns the statistics targets set on from_table''s columns of the same names (the partitions made by the upkeep functions take their parent''s).';
