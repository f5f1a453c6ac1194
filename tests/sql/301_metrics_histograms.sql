-- The latency histograms: milliseconds exact below 1 s and 3 significant digits above;
-- histograms add up key by key; percentiles are nearest-rank (what percentile_disc gives
-- on the raw values); the Prometheus buckets are cumulative and end with +Inf.
BEGIN;
select plan(14);

select is(collab.metrics_round_ms(0.0004), 0::bigint, 'under half a millisecond rounds to 0');
select is(collab.metrics_round_ms(0.2137), 214::bigint, 'below 1 s: whole milliseconds');
select is(collab.metrics_round_ms(12.3456), 12300::bigint, 'above 1 s: 3 significant digits');
select is(collab.metrics_round_ms(-3), 0::bigint, 'never negative (a clock moved back)');
select is(collab.metrics_round_ms(null), null::bigint, 'null stays null');

select is(collab.metrics_merge_histograms('{"100": 2, "200": 1}', '{"200": 3, "5000": 1}'),
  '{"100": 2, "200": 4, "5000": 1}'::jsonb, 'histograms add up key by key');
select is(collab.metrics_merge_histograms(null, '{}'), '{}'::jsonb, 'null and empty merge to empty');

-- 1..10 seconds, one each: percentile_disc(0.5) = 5, (0.95) = 10, (0.99) = 10.
create temp table ten as select jsonb_object_agg(g * 1000, 1) as h from generate_series(1, 10) g;
select is(collab.metrics_percentile((select h from ten), 0.5), 5::float, 'p50 of 1..10 s is 5 s');
select is(collab.metrics_percentile((select h from ten), 0.95), 10::float, 'p95 of 1..10 s is 10 s');
select is(collab.metrics_percentile((select h from ten), 0.5),
  (select percentile_disc(0.5) within group (order by g)::float from generate_series(1, 10) g),
  'the same as percentile_disc on the raw values');
select is(collab.metrics_percentile('{}', 0.5), null::float, 'an empty histogram has no percentile');

select is(collab.metrics_latency('{"4": 1, "2000": 2}') - 'buckets',
  '{"count": 3, "sum_seconds": 4.004, "p50": 2, "p95": 2, "p99": 2}'::jsonb, 'count, sum and percentiles');
select is(collab.metrics_latency('{"4": 1, "2000": 2}') -> 'buckets' -> 0, '["0.005", 1]'::jsonb,
  'buckets are cumulative: 4 ms is under 5 ms');
select is(collab.metrics_latency('{"4": 1, "2000": 2}') -> 'buckets' -> -1, '["+Inf", 3]'::jsonb,
  'the last bucket is +Inf with every value');

select * from finish();
ROLLBACK;
