-- Cooldowns (issue 15), LiteLLM's rules by default, status by status: what cools a route,
-- what falls back, Retry-After up to the cap, the failure ratio, a single route never cooled
-- by a 429, a cooled route never ranked, and the rules configurable. Outcomes are
-- append-only rows (no hot row).
BEGIN;
select tests.tenancy_fixture();
select plan(34);

select tests.authenticate_as(tests.id('admin'));
select api.put_route('chat', 'a', 'p', 'm');
select api.put_route('chat', 'b', 'p', 'm');
select api.put_route('solo', 'only', 'p', 'm');
select tests.authenticate_as(tests.id('member'));
create temp table snap as select (api.rank_routes('chat') ->> 'snapshot_id')::bigint as id;
create temp table solo as select (api.rank_routes('solo') ->> 'snapshot_id')::bigint as id;

create temp sequence minutes;
-- one outcome in a fresh minute: {cooled, fallback}
create or replace function pg_temp.outcome(status integer, retry_after double precision default null) returns text
language plpgsql as $$
declare r jsonb;
begin
  perform set_config('collab.clock_offset', (nextval('pg_temp.minutes') * 120) || ' seconds', true);
  r := api.record_route_outcome((select id from snap), 'a', status, 100, retry_after => retry_after);
  return format('cooled=%s fallback=%s', r ->> 'cooled', r ->> 'fallback');
end $$;

select is(pg_temp.outcome(200), 'cooled=false fallback=false', '200: ok');
select is(pg_temp.outcome(429), 'cooled=true fallback=true', '429 with another route: cooled, fall back');
select is(pg_temp.outcome(401), 'cooled=true fallback=true', '401: cooled');
select is(pg_temp.outcome(402), 'cooled=true fallback=true', '402: cooled');
select is(pg_temp.outcome(404), 'cooled=true fallback=true', '404: cooled');
select is(pg_temp.outcome(408), 'cooled=true fallback=true', '408: cooled');
select is(pg_temp.outcome(500), 'cooled=true fallback=true', '500: cooled');
select is(pg_temp.outcome(503), 'cooled=true fallback=true', '503: cooled');
select is(pg_temp.outcome(400), 'cooled=false fallback=false', '400: neither retried nor cooled');
select is(pg_temp.outcome(413), 'cooled=false fallback=false', '413: neither retried nor cooled');
select is(pg_temp.outcome(422), 'cooled=false fallback=false', '422: neither retried nor cooled');
select is(pg_temp.outcome(0), 'cooled=false fallback=true', 'a connection error: fall back, not cooled');
select set_config('collab.clock_offset', '', true);
select is((api.record_route_outcome((select id from solo), 'only', 429)) ->> 'cooled', 'false',
  '429 on a service with a single route: not cooled');

-- duration: 5 s by default, Retry-After up to 60 s
select set_config('collab.clock_offset', '10000000 seconds', true);
select is((api.record_route_outcome((select id from snap), 'a', 500)) ->> 'cooldown_until',
  to_jsonb(now() + current_setting('collab.clock_offset')::interval + interval '5 seconds') #>> '{}', 'default cooldown: 5 s');
select is((api.record_route_outcome((select id from snap), 'a', 429, retry_after => 20)) ->> 'cooldown_until',
  to_jsonb(now() + current_setting('collab.clock_offset')::interval + interval '20 seconds') #>> '{}', 'Retry-After 20 s is honoured');
select is((api.record_route_outcome((select id from snap), 'a', 429, retry_after => 600)) ->> 'cooldown_until',
  to_jsonb(now() + current_setting('collab.clock_offset')::interval + interval '60 seconds') #>> '{}', 'Retry-After is capped at 60 s');
-- a cooled route is never ranked until its cooldown ends
select is((select c ->> 'excluded_reason' from jsonb_array_elements(api.rank_routes('chat') -> 'candidates') c
            where c ->> 'route' = 'a'), 'cooldown', 'a cooled route is excluded (cooldown)');
select is((select count(*)::integer from jsonb_array_elements(api.rank_routes('chat') -> 'candidates') c
            where c ->> 'route' = 'a' and c ->> 'rank' is not null), 0, 'and not ranked');
select set_config('collab.clock_offset', '10000061 seconds', true);
select is((select c ->> 'rank' from jsonb_array_elements(api.rank_routes('chat') -> 'candidates') c
            where c ->> 'route' = 'a') is not null, true, 'ranked again after the cooldown');

-- failure ratio: > 50 % of >= 5 calls in 60 s (errors that do not cool by status: a 409)
select set_config('collab.clock_offset', '20000000 seconds', true);
select api.record_route_outcome((select id from snap), 'b', 200);
select api.record_route_outcome((select id from snap), 'b', 200);
select is((api.record_route_outcome((select id from snap), 'b', 409)) ->> 'cooled', 'false', '1 failure of 3: no');
select is((api.record_route_outcome((select id from snap), 'b', 409)) ->> 'cooled', 'false', '2 failures of 4: no');
select is((api.record_route_outcome((select id from snap), 'b', 409)) ->> 'reason', 'failure_ratio',
  '3 failures of 5 (> 50 %): cooled (failure_ratio)');

-- on a failure, the service's routes cooling now, another caller's cooldown included: what
-- a caller falling back down its snapshot skips (a service of its own, so that these failures
-- stay out of chat's failure ratio)
select tests.authenticate_as(tests.id('admin'));
select api.put_route('fleet', 'x', 'p', 'm');
select api.put_route('fleet', 'y', 'p', 'm');
select tests.authenticate_as(tests.id('member'));
create temp table fleet as select (api.rank_routes('fleet') ->> 'snapshot_id')::bigint as id;
create temp table other_fleet as select (api.rank_routes('fleet') ->> 'snapshot_id')::bigint as id;
select set_config('collab.clock_offset', '25000000 seconds', true);
select is((api.record_route_outcome((select id from fleet), 'x', 200)) -> 'cooling', 'null'::jsonb,
  'a success names no cooling routes');
select is((api.record_route_outcome((select id from fleet), 'x', 0)) -> 'cooling', '[]'::jsonb,
  'a failure while nothing cools: none');
select api.record_route_outcome((select id from other_fleet), 'y', 503);  -- another caller cools y
select is((api.record_route_outcome((select id from fleet), 'x', 0)) -> 'cooling', '["y"]'::jsonb,
  'a connection error on x names y, cooled by another call after this snapshot');
select is((api.record_route_outcome((select id from fleet), 'x', 500)) -> 'cooling', '["x", "y"]'::jsonb,
  'a 500 on x names x itself and y');
select is((api.record_route_outcome((select id from solo), 'only', 0)) -> 'cooling', '[]'::jsonb,
  'another service''s cooldowns are not named');
select set_config('collab.clock_offset', '25000006 seconds', true);
select is((api.record_route_outcome((select id from fleet), 'x', 0)) -> 'cooling', '[]'::jsonb,
  'cooldowns that ended are not named');

-- configurable
select tests.authenticate_as(tests.id('admin'));
select api.configure_routing('chat', settings => '{"cooldown_statuses": [429], "cooldown_5xx": false, "cooldown_seconds": 30}');
select tests.authenticate_as(tests.id('member'));
select is(pg_temp.outcome(401), 'cooled=false fallback=false', 'configured: 401 no longer cools');
select is(pg_temp.outcome(500), 'cooled=false fallback=true', 'configured: 500 falls back without cooling');
select set_config('collab.clock_offset', '30000000 seconds', true);
select is((api.record_route_outcome((select id from snap), 'a', 429)) ->> 'cooldown_until',
  to_jsonb(now() + current_setting('collab.clock_offset')::interval + interval '30 seconds') #>> '{}', 'configured: cooldown_seconds 30');
select tests.authenticate_as(tests.id('admin'));
select api.configure_routing('chat', settings => '{"cooldowns": false}');
select tests.authenticate_as(tests.id('member'));
select is(pg_temp.outcome(429), 'cooled=false fallback=true', 'cooldowns off: nothing cools');

-- input checks
select is((tests.outcome($$select api.record_route_outcome(1, 'a', 700)$$)) ->> 'field', 'status', 'status is checked');
select is((tests.outcome(format($$select api.record_route_outcome(%s, 'a', 200, -1)$$, (select id from snap)))) ->> 'field',
  'latency_ms', 'latency_ms is checked');

select * from finish();
ROLLBACK;
