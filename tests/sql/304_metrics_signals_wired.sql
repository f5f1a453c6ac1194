-- The outcomes that write no job event are counted where they happen: an idempotent repeat
-- in api.enqueue_batch, a stale token in api.complete_batch (it does not abort the batch),
-- and a short claim while due jobs stay locked by another claimer (a claim conflict).
BEGIN;
select plan(5);

create temp table w as select api.register_executor('metrics-304', array['metrics-304']) as id;
select api.enqueue('metrics-304', 'k', '{"a": 1}', idempotency_key => 'k-304');
select api.enqueue('metrics-304', 'k', '{"a": 1}', idempotency_key => 'k-304');
select api.enqueue_batch('[{"queue": "metrics-304", "type": "k", "payload": {"a": 1}, "idempotency_key": "k-304"},
                           {"queue": "metrics-304", "type": "k", "payload": {"b": 2}, "idempotency_key": "k2-304"},
                           {"queue": "metrics-304", "type": "k", "payload": {"b": 2}, "idempotency_key": "k2-304"}]');
select is((select sum(count) from collab.metrics_signals where kind = 'idempotent_duplicate' and queue = 'metrics-304'),
  3::numeric, 'three idempotent repeats (one single, two in a batch, one of them inside the batch itself)');

create temp table c as select * from api.claim((select id from w), null, 1);
select is((select count(*) from api.complete_batch(jsonb_build_array(
             jsonb_build_object('job_id', (select id from c), 'lease_token', gen_random_uuid())))
            where reason = 'lease_lost'), 1::bigint, 'a stale token is reported on its item');
select is((select sum(count) from collab.metrics_signals where kind = 'fencing_rejection' and queue = 'metrics-304'),
  1::numeric, 'and counted as a fencing rejection');

select is((select count(*) from collab.metrics_signals where kind = 'claim_conflict'), 0::bigint,
  'a short claim on a drained queue is no conflict');

-- (A short claim while another claimer holds due rows is counted: tests/py/integration/
-- test_metrics_signals.py, which needs a second connection.)
select api.enqueue('metrics-304', 'k', '{"c": 3}');
select count(*) from api.claim((select id from w), null, 5);
select is((select count(*) from collab.metrics_signals where kind = 'claim_conflict' and queue = 'metrics-304'), 0::bigint,
  'a short claim that took every due job is no conflict either');

select * from finish();
ROLLBACK;
