-- The time of the running statement on Collab's clock: collab.clock() (the transaction's time,
-- moved by collab.clock_offset) plus the time since the transaction began. The job triggers
-- count the delays they announce (collab.notify_jobs_later) from it: counted from the
-- transaction's start, a job enqueued 1 s ahead 0.6 s into its transaction was announced as
-- due 1,000 ms after the commit and woke its workers 0.6 s late (tests/sql/539,
-- tests/py/integration/test_notify_jobs_due.py).
-- No SET clause, so the planner can inline it (names are schema-qualified); VOLATILE, as
-- clock_timestamp() is.
create or replace function collab.statement_clock()
returns timestamptz
language sql
volatile
as $$
  select collab.clock() + (clock_timestamp() - now())
$$;
comment on function collab.statement_clock() is
  'The running statement''s time on Collab''s clock: collab.clock() plus the time since the transaction began.';
