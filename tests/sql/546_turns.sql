-- api.wait_turn and api.end_turn: one session at a time holds the turn of a lane (a workspace
-- and a set of queue names, in any order), a session holds at most one, asking again for the
-- one it holds takes no second lock, and bad input is refused before any lock is taken. The
-- waits between sessions (one waits while another holds the turn, gets it when that one ends
-- its turn or its session): tests/py/integration/test_turns.py.
BEGIN;
select plan(26);

-- The session's turn locks (advisory, 64-bit keys), as pg_locks shows them.
create function pg_temp.turn_locks() returns bigint[] language sql as $$
  select coalesce(array_agg(((l.classid::bigint << 32) | l.objid::bigint) order by l.classid, l.objid), '{}')
    from pg_locks l
   where l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.objsubid = 1 and l.granted
$$;

create temp table ex as select api.register_executor('turn-exec', array['turn-b', 'turn-a']) as id;
create temp table other as select api.register_executor('turn-other', array['turn-c']) as id;

-- The happy path.
select is(api.wait_turn((select id from ex)), true, 'the first session to ask gets the lane''s turn');
select is(cardinality(pg_temp.turn_locks()), 1, 'it holds one advisory lock');
select is(current_setting('collab.turn'), (pg_temp.turn_locks())[1]::text, 'and notes which (collab.turn)');
create temp table first_key as select (pg_temp.turn_locks())[1] as key;
select is(api.wait_turn((select id from ex), array['turn-a', 'turn-b', 'turn-a'], 0), true,
  'the same names in another order, one given twice, are the same lane: the turn it holds');
select is(pg_temp.turn_locks(), array[(select key from first_key)], 'no second lock is taken for it');
select is(api.wait_turn((select id from ex), null, 0), true, 'asking again with the executor''s queues: still held');
select is(pg_temp.turn_locks(), array[(select key from first_key)], 'still one lock');

-- Lanes: per workspace and set of names.
select is(api.wait_turn((select id from ex), array['turn-a'], 0), true, 'another set of names is another lane');
select isnt(pg_temp.turn_locks(), array[(select key from first_key)], 'its turn is another lock');
select is(cardinality(pg_temp.turn_locks()), 1, 'and the first lane''s turn was given up: a session holds one');
select is(api.wait_turn((select id from other), array['turn-c'], 0), true, 'another executor of the session, another lane');
select is(cardinality(pg_temp.turn_locks()), 1, 'still one');

-- end_turn.
select is(api.end_turn(), true, 'end_turn gives up the turn held');
select is(pg_temp.turn_locks(), '{}'::bigint[], 'no lock is left');
select is(api.end_turn(), false, 'with none held, end_turn says so');
select is(current_setting('collab.turn'), '', 'the note is cleared');
select is(api.wait_turn((select id from ex), null, 100), true, 'a turn can be taken again (waiting up to 100 ms)');
select is(api.end_turn(), true, 'and given up again');

-- Bad input: refused, and no lock taken.
select is(tests.outcome($$select api.wait_turn(null)$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "executor_id"}'::jsonb, 'no executor: PT400');
select is(tests.outcome($$select api.wait_turn(gen_random_uuid())$$),
  '{"sqlstate": "PT404", "reason": "executor_not_found", "field": "executor_id"}'::jsonb, 'an unknown executor: PT404');
select is(tests.outcome(format($$select api.wait_turn(%L, null, 60001)$$, (select id from ex))),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "wait_ms"}'::jsonb, 'wait_ms above 60000: PT400');
select is(tests.outcome(format($$select api.wait_turn(%L, null, -1)$$, (select id from ex))) ->> 'field', 'wait_ms',
  'a negative wait_ms: PT400 on wait_ms');
select is(tests.outcome(format($$select api.wait_turn(%L, array['bad name'])$$, (select id from ex))),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "queues"}'::jsonb, 'an invalid queue name: PT400');
select is(tests.outcome(format($$select api.wait_turn(%L, (select array_agg('q' || i) from generate_series(1, 101) i))$$,
                               (select id from ex))) ->> 'field', 'queues', '101 queues: PT400 on queues');
select is(tests.outcome(format($$select api.wait_turn(%L, array[]::text[])$$, (select id from ex))) ->> 'field', 'queues',
  'an empty list of queues: PT400');
set local request.method = 'POST';
select is(tests.outcome(format($$select api.wait_turn(%L)$$, (select id from ex))) ->> 'reason', 'invalid_input',
  'through the REST API (PostgREST sets request.method): refused, PT400');
reset request.method;

select * from finish();
ROLLBACK;
