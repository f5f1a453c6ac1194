-- Delay before retrying after failed attempt number `attempt` (1-based):
-- min(max, base * 2^(attempt-1)), reduced by up to `jitter` (a fraction) at random.
-- Bounds: [min(max, base*2^(attempt-1)) * (1 - jitter), min(max, base*2^(attempt-1))].
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.backoff_delay(
  attempt integer,
  base_seconds double precision,
  max_seconds double precision,
  jitter double precision
)
returns interval
language sql
volatile
parallel safe
as $$
  select make_interval(secs =>
    least(max_seconds, base_seconds * power(2::double precision, least(greatest(attempt, 1) - 1, 60)))
    * (1 - jitter * random()))
$$;
comment on function collab.backoff_delay(integer, double precision, double precision, double precision) is
  'Exponential backoff with jitter: min(max, base*2^(attempt-1)) * (1 - jitter*random()).';
