-- Nearest-rank percentile of a sparse histogram {"<milliseconds>": count}: the smallest
-- value whose cumulative count reaches ceil(p * total) (what percentile_disc returns on the
-- raw values). In seconds; null for an empty histogram.
create or replace function collab.metrics_percentile(histogram jsonb, p numeric)
returns double precision
language sql
immutable
parallel safe
as $$
  select x.v / 1000.0
    from (select h.key::bigint as v,
                 sum(h.value::bigint) over (order by h.key::bigint) as cumulative,
                 sum(h.value::bigint) over () as total
            from jsonb_each_text(coalesce(histogram, '{}'::jsonb)) h) x
   where x.cumulative >= greatest(ceil(p * x.total), 1)
   order by x.v
   limit 1
$$;
comment on function collab.metrics_percentile(jsonb, numeric) is
  'Nearest-rank percentile (0 < p <= 1) of a sparse millisecond histogram, in seconds; null when empty.';
