-- A claim reclaims the expired leases of its queues at most once a second per session and set
-- of queues (api.claim): a claim within a second of the last check leaves an expired lease to
-- the next one; a later claim, another set of queues, or a clock that went back checks again.
BEGIN;
select plan(9);

create temp table worker as select api.register_executor('gate-1', array['gate-a', 'gate-b']) as id;
create temp table job as select * from api.enqueue('gate-a', 'a', max_attempts => 3);
create temp table first as select * from api.claim((select id from worker), array['gate-a'], 1, 5);
select is((select count(*)::integer from first), 1, 'the job is claimed with a lease of 5 s');
select ok(current_setting('collab.leases_checked', true) like '%|' || collab.default_workspace_id() || '/gate-a|1',
  'the claim noted when it checked the leases of gate-a, and that the next check comes a second on');

-- 10 s later the lease has run out; the session last checked 0.5 s ago (as far as it knows).
set local collab.clock_offset = '10 seconds';
select set_config('collab.leases_checked',
  (extract(epoch from collab.clock()) - 0.5)::text || '|' || collab.default_workspace_id() || '/gate-a|1', true);
select is_empty($$select * from api.claim((select id from worker), array['gate-a'], 1)$$,
  'a claim within a second of the last check does not look for expired leases');
select is((select status from tests.all_jobs where id = (select id from job)), 'running'::collab.job_status,
  'so the job whose lease ran out still runs');

select is_empty($$select * from api.claim((select id from worker), array['gate-a', 'gate-b'], 1)$$,
  'a claim of another set of queues checks at once (the retry waits for its backoff)');
select results_eq(
  $$select status::text, last_error ->> 'reason' from tests.all_jobs where id = (select id from job)$$,
  $$values ('queued', 'lease_expired')$$,
  'and reclaims the expired lease');

set local collab.clock_offset = '1 minute';
create temp table again as select * from api.claim((select id from worker), array['gate-a'], 1, 5);
select is((select attempt from again), 2, 'a claim a minute on takes the job for attempt 2');
-- A minute later its lease has run out again, and the session's last check is noted an hour
-- ahead: the clock went back.
set local collab.clock_offset = '2 minutes';
select set_config('collab.leases_checked',
  (extract(epoch from collab.clock()) + 3600)::text || '|' || collab.default_workspace_id() || '/gate-a|1', true);
select is_empty($$select * from api.claim((select id from worker), array['gate-a'], 1)$$,
  'a claim after the clock went back checks (the retry waits for its backoff)');
select results_eq(
  $$select status::text, attempt, last_error ->> 'reason' from tests.all_jobs where id = (select id from job)$$,
  $$values ('queued', 2, 'lease_expired')$$,
  'and reclaims the second expired lease');

select * from finish();
ROLLBACK;
