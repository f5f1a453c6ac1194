-- LLM routing (issue 15): routes, filters with their reasons, strategies, one snapshot per
-- ranking, keys in production and development mode, api.routing_snapshot.
BEGIN;
do $key$
begin
  if pg_catalog.pg_read_binary_file('collab_vault.key', 0, 4096, true) is null then
    execute format('copy (select encode(extensions.gen_random_bytes(32), ''hex'')) to %L',
                   current_setting('data_directory') || '/collab_vault.key');
  end if;
end
$key$;
select tests.tenancy_fixture();
select plan(42);

select tests.as_request('service_role', jsonb_build_object('workspace_id', tests.id('workspace_a')));
select api.put_secret('key-ok', 'sk-ok');
select api.put_secret('key-expiring', 'sk-exp', now() + interval '1 hour');
select api.put_secret('key-tampered', 'sk-t');
update collab.secret_versions set ciphertext = set_bit(ciphertext, 100, 1 - get_bit(ciphertext, 100)) where name = 'key-tampered';

select tests.authenticate_as(tests.id('admin'));
select api.put_route('chat', 'cheap', 'p1', 'm1', 'http://127.0.0.1:9/v1', 1, 1, secret_name => 'key-ok');
select api.put_route('chat', 'mid', 'p2', 'm2', null, 2, 2, capabilities => array['tools', 'json'], tags => array['eu']);
select api.put_route('chat', 'dear', 'p3', 'm3', null, 3, 3, context_window => 1000, data_collection => 'allow');
select is((tests.outcome($$select api.put_route('chat', 'x', 'p', 'm', 'ftp://nope')$$)) ->> 'field', 'base_url', 'base_url is checked');
select is((tests.outcome($$select api.put_route('chat', 'x', 'p', 'm', weight => -1)$$)) ->> 'field', 'weight', 'weight is checked');
select is((tests.outcome($$select api.put_route('chat', 'x', 'p', 'm', data_collection => 'maybe')$$)) ->> 'reason', 'invalid_input',
  'data_collection is checked');
select is((select count(*)::integer from api.list_routes('chat')), 3, 'list_routes lists the service''s routes');
select is((tests.outcome($$select api.configure_routing('chat', 'fastest')$$)) ->> 'field', 'strategy', 'unknown strategy refused');
select is((tests.outcome($$select api.configure_routing('chat', settings => '{"window": 0}')$$)) ->> 'field', 'settings.window',
  'settings are bounded');
select is((tests.outcome($$select api.configure_routing('chat', settings => '{"nope": 1}')$$)) ->> 'field', 'settings',
  'unknown settings refused');

-- cost strategy: by estimated cost; each call writes exactly one snapshot
select is((api.configure_routing('chat', 'cost')) ->> 'strategy', 'cost', 'strategy cost');
select tests.authenticate_as(tests.id('member'));
create temp table r1 as select api.rank_routes('chat', '{"input_tokens": 100}') as s;
select is((select jsonb_agg(c ->> 'route' order by (c ->> 'rank')::int) from r1, jsonb_array_elements(s -> 'candidates') c),
  '["cheap", "mid", "dear"]'::jsonb, 'cost: cheapest first');
reset role;
select is((select count(*)::integer from collab.routing_snapshots where service = 'chat'), 1, 'one snapshot per ranking');
select tests.authenticate_as(tests.id('member'));
select is((select s ->> 'chosen' from r1), 'cheap', 'the snapshot names the chosen route');
select is((api.routing_snapshot('chat')) ->> 'snapshot_id', (select s ->> 'snapshot_id' from r1), 'routing_snapshot returns the latest');

-- filters, each with its reason in the snapshot
create or replace function pg_temp.why(request jsonb, route text) returns text language sql as $$
  select c ->> 'excluded_reason' from jsonb_array_elements(api.rank_routes('chat', request) -> 'candidates') c
   where c ->> 'route' = route $$;
select is(pg_temp.why('{"only": ["cheap"]}', 'mid'), 'not_in_only', 'only');
select is(pg_temp.why('{"ignore": ["p2"]}', 'mid'), 'ignored', 'ignore (by provider)');
select is(pg_temp.why('{"capabilities": ["tools"]}', 'cheap'), 'missing_capability', 'required capabilities');
select is(pg_temp.why('{"capabilities": ["tools"]}', 'mid'), null, 'a capable route stays');
select is(pg_temp.why('{"tags": ["eu"]}', 'dear'), 'missing_tag', 'required tags');
select is(pg_temp.why('{"input_tokens": 900, "max_output_tokens": 200}', 'dear'), 'context_window', 'context window >= request tokens');
select is(pg_temp.why('{"max_price": {"prompt": 2.5}}', 'dear'), 'max_price', 'max_price');
select is(pg_temp.why('{"data_collection": "deny"}', 'dear'), 'data_collection', 'data_collection deny');
select is((tests.outcome($$select api.rank_routes('chat', '{"input_tokens": "many"}')$$)) ->> 'field', 'request.input_tokens',
  'request keys are checked');
select is((tests.outcome($$select api.rank_routes('chat', '[]')$$)) ->> 'field', 'request', 'request must be an object');

-- keys in production mode: missing, expired, tampered routes are never ranked
select tests.authenticate_as(tests.id('admin'));
select api.put_route('chat', 'cheap', 'p1', 'm1', null, 1, 1, secret_name => 'key-missing');
select tests.authenticate_as(tests.id('member'));
select is(pg_temp.why('{}', 'cheap'), 'key_missing', 'production: a missing key excludes the route');
select tests.authenticate_as(tests.id('admin'));
select api.put_route('chat', 'cheap', 'p1', 'm1', null, 1, 1, secret_name => 'key-tampered');
select tests.authenticate_as(tests.id('member'));
select is(pg_temp.why('{}', 'cheap'), 'key_tampered', 'production: a tampered key excludes the route');
select tests.authenticate_as(tests.id('admin'));
select api.put_route('chat', 'cheap', 'p1', 'm1', null, 1, 1, secret_name => 'key-expiring');
select tests.authenticate_as(tests.id('member'));
select is(pg_temp.why('{}', 'cheap'), null, 'a valid key ranks');
select set_config('collab.clock_offset', '1 hour 1 second', true);
select is(pg_temp.why('{}', 'cheap'), 'key_expired', 'production: an expired key excludes the route');
select tests.as_request('service_role', jsonb_build_object('workspace_id', tests.id('workspace_a')));
select api.configure_vault('development');
select tests.authenticate_as(tests.id('member'));
select is(pg_temp.why('{}', 'cheap'), null, 'development: the route still ranks');
select is((select c ->> 'key_status' from jsonb_array_elements((api.routing_snapshot('chat')) -> 'candidates') c
            where c ->> 'route' = 'cheap'), 'expired', 'with its key status in the snapshot');
select set_config('collab.clock_offset', '', true);

-- latency strategy: untried routes first, then the lowest mean of the window (min_samples 1:
-- one sample makes an estimate)
select tests.authenticate_as(tests.id('admin'));
select api.configure_routing('chat', 'latency', '{"buffer": 0, "min_samples": 1}');
select tests.authenticate_as(tests.id('member'));
create temp table r2 as select api.rank_routes('chat') as s;
select api.record_route_outcome((s ->> 'snapshot_id')::bigint, 'cheap', 200, 300) from r2;
select api.record_route_outcome((s ->> 'snapshot_id')::bigint, 'mid', 200, 200) from r2;
select is((api.rank_routes('chat')) -> 'candidates' -> 0 ->> 'route', 'dear', 'latency: an untried route is explored first');
select api.record_route_outcome((s ->> 'snapshot_id')::bigint, 'dear', 200, 600) from r2;
select is((select jsonb_agg(c ->> 'route' order by (c ->> 'rank')::int) from jsonb_array_elements(api.rank_routes('chat') -> 'candidates') c),
  '["mid", "cheap", "dear"]'::jsonb, 'latency: lowest mean latency first');
select api.record_route_outcome((s ->> 'snapshot_id')::bigint, 'mid', 200, 800) from r2, generate_series(1, 2);
select is((api.rank_routes('chat')) -> 'candidates' -> 0 ->> 'route', 'cheap',
  'a latency step of the best route (200 -> 800 ms) is noticed within 2 calls');

-- exploration: a route with fewer than min_samples samples scores 0 (explored first), and so
-- does one with fewer than min_samples samples of the last latency_ttl_seconds while another
-- candidate has that many: a route that nobody picks is probed again instead of being judged
-- for good on a few old samples
select tests.authenticate_as(tests.id('admin'));
select is((tests.outcome($$select api.configure_routing('chat', settings => '{"min_samples": 11}')$$)) ->> 'field',
  'settings.min_samples', 'min_samples above the window is refused');
select is((api.configure_routing('chat', settings => '{"min_samples": 3}')) -> 'settings' ->> 'latency_ttl_seconds', '10',
  'latency_ttl_seconds defaults to 10');
select tests.authenticate_as(tests.id('member'));
select api.record_route_outcome((s ->> 'snapshot_id')::bigint, 'mid', 200, 200) from r2;
-- cheap 1 sample (300), mid 4 (200, 800, 800, 200: 500), dear 1 (600)
select is((select jsonb_agg(c ->> 'route' order by c ->> 'route') from jsonb_array_elements(api.rank_routes('chat') -> 'candidates') c
            where (c ->> 'rank')::integer <= 2),
  '["cheap", "dear"]'::jsonb, 'min_samples 3: the two routes with one sample each are explored before mid (mean 500 ms)');
select api.record_route_outcome((s ->> 'snapshot_id')::bigint, r, 200, l)
  from r2, (values ('cheap', 300), ('cheap', 300), ('dear', 600), ('dear', 600)) v(r, l);
select is((select jsonb_agg(c ->> 'route' order by (c ->> 'rank')::int) from jsonb_array_elements(api.rank_routes('chat') -> 'candidates') c),
  '["cheap", "mid", "dear"]'::jsonb, 'with 3 samples or more each: by mean latency');
-- 11 s later nothing is fresh: the window's means rank as they are (a service called less
-- often than the TTL is not explored on every call)
select set_config('collab.clock_offset', '11 seconds', true);
select is((select jsonb_agg(c ->> 'route' order by (c ->> 'rank')::int) from jsonb_array_elements(api.rank_routes('chat') -> 'candidates') c),
  '["cheap", "mid", "dear"]'::jsonb, 'no fresh samples anywhere: ranked by the means of the window');
select api.record_route_outcome((s ->> 'snapshot_id')::bigint, r, 200, l)
  from r2, (values ('cheap', 300), ('cheap', 300), ('cheap', 300), ('mid', 200), ('mid', 200), ('mid', 200)) v(r, l);
create temp table r3 as select api.rank_routes('chat') as s;
select is((select c ->> 'route' from r3, jsonb_array_elements(s -> 'candidates') c where (c ->> 'rank')::integer = 1),
  'dear', 'dear''s samples have aged out while the others are in use: it is probed again, ahead of mid and cheap');
select is((select array[(c ->> 'samples')::integer, (c ->> 'fresh_samples')::integer]
             from r3, jsonb_array_elements(s -> 'candidates') c where c ->> 'route' = 'dear'),
  array[3, 0], 'and the snapshot shows its 3 samples, none of them fresh');
select is((select (c ->> 'latency_ms')::numeric from r3, jsonb_array_elements(s -> 'candidates') c where c ->> 'route' = 'mid'),
  200.000, 'a route with 3 fresh samples is estimated on them alone (mid: 200 ms, not the window''s 400)');
select set_config('collab.clock_offset', '', true);

-- errors
select is((tests.outcome($$select api.routing_snapshot('never')$$)) ->> 'reason', 'snapshot_not_found', 'never ranked: PT404');
select is((tests.outcome(format($$select api.record_route_outcome(%s, 'nope', 200)$$, (select s ->> 'snapshot_id' from r2)))) ->> 'reason',
  'route_not_found', 'a route outside the snapshot: PT404 route_not_found');
select tests.authenticate_as(tests.id('viewer'));
select is((tests.outcome($$select api.rank_routes('chat')$$)) ->> 'reason', 'forbidden', 'a viewer cannot rank');

select * from finish();
ROLLBACK;
