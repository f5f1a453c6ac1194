-- The Edge Functions' SQL side: api.function_quota takes one token per call from the
-- workspace's `functions` limits (scope user: one bucket per caller), PT429 rate_limited when
-- over; api.metrics_overview is one document per workspace that never shows another's.
BEGIN;
select plan(11);
select tests.tenancy_fixture();

select tests.authenticate_as(tests.id('viewer'));
select is((select count(*)::integer from generate_series(1, 20) i, lateral api.function_quota('jobs-recent' || left(i::text, 0)) q), 20,
          'without a limit every call passes');
select is(tests.outcome($$select api.function_quota('Bad Name')$$) - 'sqlstate',
          '{"reason": "invalid_input", "field": "name"}'::jsonb, 'the name must be a function name');
select tests.authenticate_as(tests.id('admin'));
select is((api.configure_rate_limit('functions', 'user', 1, 2)) ->> 'scope', 'user', 'an admin limits each caller to 1/s, bursts of 2');
select is(tests.outcome($$select api.configure_rate_limit('enqueue', 'user', 1, 2)$$) ->> 'field', 'scope',
          'scope user is for functions only');
select tests.authenticate_as(tests.id('viewer'));
select is((select count(*)::integer from generate_series(1, 2) i, lateral api.function_quota('metrics-overview' || left(i::text, 0)) q), 2,
          'a caller makes two calls within the burst');
select is(tests.outcome($$select api.function_quota('metrics-overview')$$),
          '{"sqlstate": "PT429", "reason": "rate_limited", "field": "function", "retry_after": 1, "scope": "user", "action": "functions"}'::jsonb,
          'the third is PT429 rate_limited');
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.function_quota('metrics-overview')$$) ->> 'sqlstate', 'ok',
          'another caller has a bucket of their own');

select tests.authenticate_as(tests.id('viewer'));
create temp table o as select api.metrics_overview() as doc;
select is((select doc -> 'queues' -> 0 ->> 'queue' from o), 'q', 'metrics_overview lists the workspace''s queues');
select is((select jsonb_build_array(doc -> 'queues' -> 0 -> 'depth', doc -> 'queues' -> 0 -> 'running', doc -> 'dlq_size') from o),
          '[1, 1, 1]'::jsonb, 'with depth, running and the DLQ size of that workspace only');
select is((select doc -> 'executors' from o) ?& array['online', 'stale', 'offline'], true, 'and executors online/stale/offline');
select is(tests.outcome($$select api.metrics_overview(0)$$) - 'sqlstate',
          '{"reason": "invalid_input", "field": "minutes"}'::jsonb, 'minutes must be 1-1440');

select * from finish();
ROLLBACK;
