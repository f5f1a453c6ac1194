-- A token bucket's level at now_: what it held at refreshed_at plus what refilled since, at
-- rate per second, capped at burst. One line of SQL, so the planner inlines it into the
-- statements of collab.take_tokens (one definition of the refill for its three writes).
create or replace function collab.bucket_tokens(
  tokens double precision,
  refreshed_at timestamptz,
  now_ timestamptz,
  rate double precision,
  burst double precision
)
returns double precision
language sql
immutable
parallel safe
as $$
  select least(burst, tokens + rate * greatest(extract(epoch from now_ - refreshed_at)::double precision, 0))
$$;
comment on function collab.bucket_tokens(double precision, timestamptz, timestamptz, double precision, double precision) is
  'Token-bucket level at now_: tokens at refreshed_at plus rate per second since, at most burst.';
