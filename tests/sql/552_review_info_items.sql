-- The info items of the security review, settled: an unknown key in a batch element is
-- refused (it used to make a job without what the misspelt key meant); run_at -infinity is
-- refused (it meant "now"); a JWT whose sub is not a uuid (Clerk, Auth0) gets PT403
-- unsupported_subject instead of auth.uid()'s 22P02; a workspace name with control or
-- bidirectional-override characters (E'evil\u202eeman' shows as "evilname" reversed) is refused.
BEGIN;
select plan(10);

select throws_ok($$select api.enqueue_batch('[{"queue": "q", "type": "t"}, {"queue": "q", "type": "t", "payloadd": {"a": 1}}]')$$,
  'PT400', 'jobs[1]: unknown key(s) payloadd: a job has queue, type, payload, priority, run_at, delay, max_attempts, idempotency_key',
  'a misspelt key is refused, naming the element and the key');
select is((tests.outcome($$select api.enqueue_batch('[{"queue": "q", "type": "t", "zz": 1, "payloadd": 2}]')$$) ->> 'field'),
  'payloadd', 'DETAIL names the first unknown key as the field');
select is((select count(*)::integer from tests.all_jobs), 0, 'and nothing was enqueued');
select throws_ok($$select api.enqueue_batch('[{"queue": "q", "type": "t", "run_at": "-infinity"}]')$$,
  'PT400', null, 'run_at -infinity is refused');

select throws_ok($$select api.create_workspace(E'evil\u202eeman')$$, 'PT400', null,
  'a bidi override in a workspace name is refused');
select throws_ok($$select api.create_workspace(E'tab\tname')$$, 'PT400', null, 'so is a control character');
select throws_ok($$select api.create_workspace(' padded')$$, 'PT400', null, 'and a leading space');
select lives_ok($$select api.create_workspace('Plain name - ok')$$, 'a plain name is fine');

select tests.as_request('authenticated', '{"sub": "user_2abcDEF"}');
select throws_ok($$select * from api.list_jobs()$$, 'PT403', null, 'a non-uuid sub is refused with PT403');
select is((tests.outcome($$select * from api.list_jobs()$$) ->> 'reason'), 'unsupported_subject',
  'reason unsupported_subject (not 22P02 from a uuid cast)');

select * from finish();
ROLLBACK;
