-- Quotas per workspace. The payload cap: 1 MiB by default, set by an admin with
-- api.configure_workspace; over it enqueue is PT400 invalid_input naming payload (and, in a
-- batch, the index), and nothing of the batch is written. max_queued_jobs bounds the jobs
-- queued at once (PT429 quota_exceeded beyond it).
BEGIN;
select plan(10);
select tests.tenancy_fixture();

select tests.authenticate_as(tests.id('admin'));
select is((api.configure_workspace()) ->> 'max_payload_bytes', '1048576', 'the default cap is 1 MiB');
select is((api.configure_workspace(max_payload_bytes => 100)) ->> 'max_payload_bytes', '100', 'an admin lowers it to 100 bytes');
select is(tests.outcome($$select api.enqueue('q', 't', jsonb_build_object('blob', repeat('x', 100)))$$) - 'sqlstate',
          '{"reason": "invalid_input", "field": "payload", "index": 0}'::jsonb,
          'a 112-byte payload is now refused, naming payload');
select is(tests.outcome($$select api.enqueue_batch(jsonb_build_array(
            jsonb_build_object('queue', 'q', 'type', 'small'),
            jsonb_build_object('queue', 'q', 'type', 'big', 'payload', jsonb_build_object('blob', repeat('x', 100)))))$$) ->> 'index',
          '1', 'in a batch the bad element is named by its index');
select is(tests.outcome($$select api.configure_workspace(max_payload_bytes => 1)$$) ->> 'field', 'max_payload_bytes',
          'a cap below 2 bytes is invalid_input');

select is((api.configure_workspace(max_queued_jobs => 2)) ->> 'max_queued_jobs', '2', 'an admin sets at most 2 queued jobs');
select is(tests.outcome($$select api.enqueue('q', 't')$$) ->> 'sqlstate', 'ok', 'with 1 queued, one more fits');
select is(tests.outcome($$select api.enqueue('q', 't')$$),
          '{"sqlstate": "PT429", "reason": "quota_exceeded", "field": "jobs", "quota": "max_queued_jobs", "limit": 2, "queued": 2}'::jsonb,
          'a third is PT429 quota_exceeded');
select is((api.configure_workspace(max_queued_jobs => 0)) ->> 'max_queued_jobs', null, '0 removes the quota');

select tests.authenticate_as(tests.id('outsider'));
select is(tests.outcome($$select api.enqueue('q', 't', jsonb_build_object('blob', repeat('x', 100)))$$) ->> 'sqlstate', 'ok',
          'another workspace keeps its own (default) cap');

select * from finish();
ROLLBACK;
