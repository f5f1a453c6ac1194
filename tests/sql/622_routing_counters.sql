-- Routing counters (issue 15): api.record_route_outcome adds each outcome to its own
-- backend's row of the route's 10-second bucket (no row shared by two writers: no hot row),
-- api.rank_routes reads its last-minute and error-window figures from them (the oldest
-- bucket pro rata), and collab.reap deletes buckets older than two hours.
BEGIN;
select tests.tenancy_fixture();
select plan(12);

-- the clock on a bucket boundary B, so the windows below are exact
select set_config('collab.clock_offset',
  (ceil(extract(epoch from now()) / 10) * 10 - extract(epoch from now())) || ' seconds', true);
create temp table b as select collab.clock() as at;
select is(extract(epoch from (select at from b))::numeric % 10, 0::numeric, 'the clock is on a bucket boundary');

select tests.authenticate_as(tests.id('admin'));
select api.put_route('chat', 'a', 'p', 'm', rpm => 3);
select api.put_route('chat', 'b', 'p', 'm');
select tests.authenticate_as(tests.id('member'));
create temp table snap as select (api.rank_routes('chat') ->> 'snapshot_id')::bigint as id;
select api.record_route_outcome((select id from snap), 'a', 200, 100, 10, 20);
select api.record_route_outcome((select id from snap), 'a', 0, null, 10, 0);  -- no response: counts, never cools
select api.record_route_outcome((select id from snap), 'a', 400, 100, 5, 0);

reset role;
select results_eq(
  $$select route, writer, calls, failures, tokens from collab.route_counters
     where workspace_id = tests.id('workspace_a') and service = 'chat'$$,
  $$values ('a'::text, pg_backend_pid(), 3, 1, 45::bigint)$$,
  'one counter row for the route, bucket and backend: 3 calls, 1 failure (400 is the request''s fault), 45 tokens');
select is((select bucket from collab.route_counters where route = 'a'), (select at from b), 'the bucket starts at B');

create or replace function pg_temp.candidate(route text, at_seconds integer) returns jsonb
language plpgsql as $$
declare r jsonb;
begin
  perform set_config('collab.clock_offset',
    ((select extract(epoch from at) from b) + at_seconds - extract(epoch from now())) || ' seconds', true);
  perform tests.authenticate_as(tests.id('member'));
  select c into r from jsonb_array_elements(api.rank_routes('chat') -> 'candidates') c where c ->> 'route' = candidate.route;
  reset role;
  return r;
end $$;

select is(pg_temp.candidate('a', 0) ->> 'excluded_reason', 'rpm_limit', 'rpm 3 reached in the bucket: excluded');
select is((pg_temp.candidate('a', 0) ->> 'calls_last_minute')::numeric, 3::numeric, '3 calls in the last minute');
select is((pg_temp.candidate('a', 0) ->> 'error_rate')::numeric, 0.3333, 'error rate 1/3 (the 400 does not count)');
select is(pg_temp.candidate('a', 59) ->> 'excluded_reason', 'rpm_limit', 'at B + 59 s the whole bucket is in the minute');
select is((pg_temp.candidate('a', 65) ->> 'calls_last_minute')::numeric, 2::numeric,
  'at B + 65 s half of the bucket is: 1.5 calls (shown rounded)');
select is(pg_temp.candidate('a', 65) ->> 'excluded_reason', null, 'and 1.5 < rpm 3: ranked again');
select is((pg_temp.candidate('a', 70) ->> 'calls_last_minute')::numeric, 0::numeric, 'at B + 70 s the bucket is out');
select is((pg_temp.candidate('b', 0) ->> 'calls_last_minute')::numeric, 0::numeric, 'route b has no calls');

select set_config('collab.clock_offset',
  ((select extract(epoch from at) from b) + 7201 - extract(epoch from now())) || ' seconds', true);
select collab.reap();
select is((select count(*)::integer from collab.route_counters where workspace_id = tests.id('workspace_a')), 0,
  'collab.reap deletes buckets older than two hours');

select * from finish();
ROLLBACK;
