-- Finding 1 of the security review (high): api.claim took one advisory lock per
-- concurrency-limited queue named in `queues`, without a cap, so one tenant could fill the
-- shared lock table and fail every tenant's calls (and new connections) with 53200. Now
-- `queues` holds at most 100 valid names, limited queues are serialized by a row lock on
-- their collab.queues row (no lock-table entry), and every array argument of the api is
-- bounded (PT400). The full reproduction, with concurrent sessions, is in
-- tests/py/integration/test_security_findings.py.
BEGIN;
select plan(12);
select tests.tenancy_fixture();

select tests.authenticate_as(tests.id('executor'));
select throws_ok(
  format($$select * from api.claim(%L, (select array_agg('lq' || g) from generate_series(1, 20000) g), 1000)$$,
         tests.id('exec_a')),
  'PT400', 'queues holds 20000 names; at most 100 per call',
  'the report''s claim naming 20,000 queues is refused before it takes anything');
select is((tests.outcome(format($$select * from api.claim(%L, (select array_agg('lq' || g) from generate_series(1, 101) g))$$,
                                tests.id('exec_a'))) ->> 'field'), 'queues', 'DETAIL names the field');
select throws_ok(
  format($$select * from api.claim(%L, array['q', 'bad name'])$$, tests.id('exec_a')),
  'PT400', null, 'queue names are validated like enqueue''s');
select throws_ok(
  format($$select * from api.claim(%L, array['q', null])$$, tests.id('exec_a')),
  'PT400', null, 'a null name is refused too');
select throws_ok(
  format($$select api.heartbeat(%L, (select array_agg(g::bigint) from generate_series(1, 10001) g))$$, tests.id('exec_a')),
  'PT400', 'job_ids holds 10001 ids; at most 10000 per call', 'heartbeat''s job_ids is bounded');
select throws_ok(
  $$select api.register_executor('wide', (select array_agg('q' || g) from generate_series(1, 101) g))$$,
  'PT400', 'queues holds 101 names; at most 100', 'an executor serves at most 100 queues');
select throws_ok(
  $$select * from api.events_since(types => (select array_agg('enqueued'::text) from generate_series(1, 101)))$$,
  'PT400', null, 'events_since''s types is bounded');
select throws_ok($$select * from api.events_since(types => array['enqueued', 'no_such_type'])$$,
  'PT400', null, 'and holds event types only');

-- 100 limited queues in one claim: the whole claim holds no advisory lock, and its row locks
-- take no entry in the lock table.
reset role;
insert into collab.queues (workspace_id, name, concurrency_limit)
select tests.id('workspace_a'), 'lq' || g, 1 from generate_series(1, 100) g;
insert into collab.jobs (workspace_id, queue, type, run_at, max_attempts, created_at)
select tests.id('workspace_a'), 'lq' || g, 't', now(), 3, now() from generate_series(1, 100) g;
create temp table locks_before as select count(*) as n from pg_locks where pid = pg_backend_pid();
select tests.authenticate_as(tests.id('executor'));
select is((select count(*)::integer from api.claim(tests.id('exec_a'),
            (select array_agg('lq' || g) from generate_series(1, 100) g), 1000)), 100,
  'a claim over 100 limited queues claims one job from each');
select is((select count(*)::integer from pg_locks where pid = pg_backend_pid() and locktype = 'advisory'), 0,
  'and holds no advisory lock');
select cmp_ok((select count(*) from pg_locks where pid = pg_backend_pid()) - (select n from locks_before), '<', 40::bigint,
  'nor a lock-table entry per queue (relation and index locks only)');
select is_empty(format($$select * from api.claim(%L, (select array_agg('lq' || g) from generate_series(1, 100) g), 1000)$$,
                       tests.id('exec_a')),
  'the limits still hold: each queue has its one job running');

select * from finish();
ROLLBACK;
