-- Finding 9 of the security review (low): a subnormal rate (1e-320) was accepted, and every
-- later enqueue failed with 22003 (retry_after overflowed) instead of PT429; at 1e-300,
-- retry_after was 1e300 seconds. Rates are now 0.001-1000000 per second (also a CHECK on
-- collab.rate_limits) and retry_after is at most a day.
BEGIN;
select plan(6);

select throws_ok($$select api.configure_rate_limit('enqueue', 'workspace', 1e-320)$$, 'PT400',
  'rate_per_second must be between 0.001 and 1000000', 'the report''s subnormal rate is refused');
select throws_ok($$select api.configure_rate_limit('claim', 'executor', 1e-310, 1)$$, 'PT400', null,
  'for claim buckets too');
select throws_ok($$insert into collab.rate_limits (workspace_id, action, scope, rate_per_second, burst)
                   values (collab.default_workspace_id(), 'enqueue', 'workspace', 1e-300, 1)$$,
  '23514', null, 'and the table refuses it whoever writes');

select lives_ok($$select api.configure_rate_limit('enqueue', 'workspace', 0.001, 1)$$, 'the floor itself is fine');
select api.enqueue('rl', 't');
select is((tests.outcome($$select api.enqueue('rl', 't')$$) ->> 'sqlstate'), 'PT429',
  'over the limit: PT429, not 22003');
select is((tests.outcome($$select api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'rl', 'type', 't')) from generate_series(1, 10000)))$$)
           ->> 'retry_after')::numeric, 86400::numeric,
  'retry_after is capped at a day (10,000 tokens at 0.001/s would be 10^7 s)');

select * from finish();
ROLLBACK;
