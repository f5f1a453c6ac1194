-- The one clock of Collab: transaction time, moved by the `collab.clock_offset` setting
-- (an interval) so tests can travel in time. Leases and backoff use nothing else.
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.clock()
returns timestamptz
language sql
stable
parallel safe
as $$
  select now() + coalesce(nullif(current_setting('collab.clock_offset', true), '')::interval,
                          interval '0')
$$;
comment on function collab.clock() is
  'Current time for every Collab rule: now() plus the collab.clock_offset setting (tests move it).';
