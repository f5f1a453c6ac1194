-- Partition upkeep of collab.job_history: one partition per UTC day of finished_at, from
-- today (collab.clock()) to days_ahead days ahead, each named job_history_YYYYMMDD, with row
-- level security on, the service role's grants and the statistics targets, as the parent
-- (collab.copy_statistics_targets; 10 since revision 0030). A day already covered by a
-- partition is left alone. Rows the default partition holds for a new day move into it
-- (written straight into the partition: no event, they are no new change). Creating a
-- partition locks the parent for a moment (moves into the history wait): each is tried with
-- a 200 ms lock_timeout and, when busy (an autovacuum of the default partition, a long read
-- of the history), left to the next call (collab.reap runs it every minute; until then the
-- default partition takes the rows). Returns how many it created.
create or replace function collab.ensure_job_history_partitions(days_ahead integer default 7)
returns integer
language plpgsql
volatile
as $$
declare
  today date := (collab.clock() at time zone 'UTC')::date;
  day date;
  day_from timestamptz;
  day_to timestamptz;
  part_name text;
  held collab.job_history_default[];
  made integer := 0;
  old_lock_timeout text := current_setting('lock_timeout');
begin
  if days_ahead is null or days_ahead not between 0 and 366 then
    perform collab.raise_error('PT400', 'invalid_input', 'days_ahead must be between 0 and 366', 'days_ahead');
  end if;
  for day in select d::date from generate_series(today, today + days_ahead, interval '1 day') d loop
    day_from := day::timestamp at time zone 'UTC';
    day_to := (day + 1)::timestamp at time zone 'UTC';
    continue when exists (select 1 from collab.job_history_partitions() p
                           where (p.from_at is not null or p.to_at is not null)
                             and coalesce(p.from_at, '-infinity') < day_to and p.to_at > day_from);
    part_name := 'job_history_' || to_char(day, 'YYYYMMDD');
    begin
      perform set_config('lock_timeout', '200ms', true);
      -- The default partition first (the new partition takes its rows; moves into the day
      -- partitions do not wait meanwhile), then the parent ONLY (not every partition: an
      -- autovacuum of one would hold it up).
      lock table collab.job_history_default in access exclusive mode;
      lock table only collab.job_history in access exclusive mode;
      with moved as (
        delete from collab.job_history_default h
         where h.finished_at >= day_from and h.finished_at < day_to
        returning h.*
      )
      select array_agg(moved) into held from moved;
      execute format('create table collab.%I partition of collab.job_history for values from (%L) to (%L)',
                     part_name, day_from, day_to);
      perform collab.copy_statistics_targets('collab.job_history', format('collab.%I', part_name)::regclass);
      execute format('alter table collab.%I enable row level security', part_name);
      execute format('grant select, insert, update, delete on collab.%I to service_role', part_name);
      if held is not null then
        execute format('insert into collab.%I select * from unnest($1)', part_name) using held;
      end if;
      perform set_config('lock_timeout', old_lock_timeout, true);
      made := made + 1;
    exception when lock_not_available then
      perform set_config('lock_timeout', old_lock_timeout, true);
    end;
  end loop;
  return made;
end
$$;
comment on function collab.ensure_job_history_partitions(integer) is
  'Creates the missing day partitions of collab.job_history from today to days_ahead (0-366) days ahead, moving rows of those days out of the default partition; a partition whose lock is busy is left to the next call. Returns how many it created.';
