-- The milliseconds from `at_` until `due_at`, rounded up and at least 1: how a notice of jobs
-- due later (collab.notify_jobs_later) says when they are due. The triggers pass the
-- statement's time on Collab's clock as `at_`; the notice is sent at the commit, after it, so
-- a worker that wakes that many milliseconds after the notice arrives is never early. One
-- expression, immutable, inlined into the triggers' aggregates.
create or replace function collab.due_in_ms(due_at timestamptz, at_ timestamptz)
returns bigint
language sql
immutable
parallel safe
as $$
  select greatest(1, ceil(extract(epoch from due_in_ms.due_at - due_in_ms.at_) * 1000))::bigint
$$;
comment on function collab.due_in_ms(timestamptz, timestamptz) is
  'Milliseconds from at_ until due_at, rounded up, at least 1 (the delays of collab.notify_jobs_later''s notices).';
