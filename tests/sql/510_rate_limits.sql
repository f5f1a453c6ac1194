-- Token-bucket rate limits: nothing is refused without a limit or under it; a burst over it
-- gets PT429 rate_limited with retry_after; a refused call takes no tokens; tokens come back
-- with time; an executor's claim budget is its own.
BEGIN;
select plan(13);

select is((select count(*)::integer from generate_series(1, 50) i, lateral api.enqueue('rl', 't', jsonb_build_object('i', i)) j), 50,
          'without a limit, 50 enqueues in a row pass');
select is((api.configure_rate_limit('enqueue', 'workspace', 1, 5)) ->> 'burst', '5', 'an admin sets 1 job/s, bursts of 5');
select is((select count(*)::integer from generate_series(1, 5) i, lateral api.enqueue('rl', 't', jsonb_build_object('i', i)) j), 5,
          'under the limit nothing is refused');
select is(tests.outcome($$select api.enqueue('rl', 't')$$),
          '{"sqlstate": "PT429", "reason": "rate_limited", "field": "jobs", "retry_after": 1, "scope": "workspace", "action": "enqueue"}'::jsonb,
          'the sixth is PT429 rate_limited, retry after 1 second');
select is((select tokens from collab.rate_buckets where action = 'enqueue'), 0::double precision,
          'the refused call took no token');
set local collab.clock_offset = '2 seconds';
select is(tests.outcome($$select api.enqueue_batch('[{"queue": "rl", "type": "t"}, {"queue": "rl", "type": "t"}, {"queue": "rl", "type": "t"}]')$$) ->> 'retry_after',
          '1', 'two seconds later a batch of three is one token short');
select is(jsonb_array_length(to_jsonb(array(select api.enqueue_batch('[{"queue": "rl", "type": "t"}, {"queue": "rl", "type": "t"}]')))), 2,
          'and a batch of two passes');

create temp table ex as select api.register_executor('rl-1', array['rl']) as one, api.register_executor('rl-2', array['rl']) as two;
select api.configure_rate_limit('claim', 'executor', 0.5, 2);
select is((select count(*)::integer from generate_series(1, 2) i, lateral api.claim((select one from ex), null, 1 + 0 * i) c), 2,
          'an executor claims twice within its burst');
select is(tests.outcome(format('select api.claim(%L, null, 1)', (select one from ex))) - 'sqlstate' - 'scope' - 'action',
          '{"reason": "rate_limited", "field": "executor_id", "retry_after": 2}'::jsonb,
          'the third claim is rate_limited, retry after 2 seconds at 0.5/s');
select is(tests.outcome(format('select api.claim(%L, null, 1)', (select two from ex))) ->> 'sqlstate', 'ok',
          'another executor has its own budget');
select api.configure_rate_limit('claim', 'executor', null);
select is(tests.outcome(format('select api.claim(%L, null, 1)', (select one from ex))) ->> 'sqlstate', 'ok',
          'with the limit removed the executor claims again');
select is(tests.outcome($$select api.configure_rate_limit('enqueue', 'executor', 1)$$) ->> 'field', 'scope',
          'an enqueue limit cannot be per executor (invalid_input on scope)');

select is(tests.outcome($$select api.configure_rate_limit('enqueue', 'workspace', 10, 4, 8)$$) ->> 'field', 'shards',
          'more shards than burst tokens is refused (invalid_input on shards)');

select * from finish();
ROLLBACK;
