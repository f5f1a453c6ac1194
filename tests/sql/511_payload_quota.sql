-- The payload cap is a per-workspace quota: 1 MiB by default, set by an admin with
-- api.configure_workspace; over it enqueue is PT400 invalid_input naming payload (and, in a
-- batch, the index), and nothing of the batch is written.
BEGIN;
select plan(6);
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

select tests.authenticate_as(tests.id('outsider'));
select is(tests.outcome($$select api.enqueue('q', 't', jsonb_build_object('blob', repeat('x', 100)))$$) ->> 'sqlstate', 'ok',
          'another workspace keeps its own (default) cap');

select * from finish();
ROLLBACK;
