-- A latency in seconds as the whole milliseconds the metrics histograms store: exact below
-- one second, rounded to 3 significant digits above (relative error under 0.5%), never
-- negative. Null stays null. Keeps the sparse histograms small at any rate.
create or replace function collab.metrics_round_ms(seconds double precision)
returns bigint
language sql
immutable
parallel safe
as $$
  select case
    when seconds is null then null
    when seconds * 1000 < 1000 then greatest(round(seconds * 1000), 0)::bigint
    else (round(seconds * 1000 / 10 ^ (floor(log(seconds * 1000)) - 2))
          * 10 ^ (floor(log(seconds * 1000)) - 2))::bigint
  end
$$;
comment on function collab.metrics_round_ms(double precision) is
  'Seconds -> milliseconds for the metrics histograms: exact below 1 s, 3 significant digits above, never negative.';
