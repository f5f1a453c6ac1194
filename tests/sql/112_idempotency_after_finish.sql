-- Idempotency keys live in collab.idempotency_keys, so they outlive the hot row: a key stays
-- taken after its job finished and moved to collab.job_history (the same answers as before:
-- the finished job as a duplicate, PT409 for anything else), and is free again once the job is
-- purged. Only enqueue writes the key table; claim, heartbeat, progress and complete never do.
BEGIN;
select plan(13);

create function pg_temp.error_of(statement text) returns jsonb language plpgsql as $$
declare
  state text;
  detail text;
begin
  execute statement;
  return null;
exception when others then
  get stacked diagnostics state = returned_sqlstate, detail = pg_exception_detail;
  return coalesce(nullif(detail, '')::jsonb, '{}'::jsonb) || jsonb_build_object('sqlstate', state);
end
$$;
-- Rows this transaction wrote into collab.idempotency_keys (inserted, updated, deleted).
create function pg_temp.key_writes() returns bigint language sql as $$
  select pg_stat_get_xact_tuples_inserted('collab.idempotency_keys'::regclass)
       + pg_stat_get_xact_tuples_updated('collab.idempotency_keys'::regclass)
       + pg_stat_get_xact_tuples_deleted('collab.idempotency_keys'::regclass)
$$;

create temp table worker as select api.register_executor('keeper', array['idem']) as id;
create temp table first as
  select * from api.enqueue('idem', 'send', '{"to": "a"}', idempotency_key => 'pay-1');
select results_eq($$select workspace_id, job_id from collab.idempotency_keys where key = 'pay-1'$$,
  $$select collab.default_workspace_id(), (select id from first)$$,
  'enqueue records the key with its job');

create temp table writes_before as select pg_temp.key_writes() as n;
create temp table c as select * from api.claim((select id from worker), array['idem'], 1, 30);
select api.heartbeat((select id from worker), array[(select id from c)]);
select api.progress((select id from c), (select lease_token from c), 50);
select api.complete((select id from c), (select lease_token from c), '{"paid": true}');
select is(pg_temp.key_writes() - (select n from writes_before), 0::bigint,
  'claim, heartbeat, progress and complete wrote nothing into the key table');
select is((select status::text from collab.job_history where id = (select id from first)), 'succeeded',
  'the job finished and moved to the history');

create temp table again as
  select * from api.enqueue('idem', 'send', '{"to": "a"}', idempotency_key => 'pay-1');
select results_eq($$select id, duplicate, status from again$$,
  $$select (select id from first), true, 'succeeded'::text$$,
  'the key still holds: the repeat returns the finished job as a duplicate');
select is(pg_temp.error_of($$select api.enqueue('idem', 'send', '{"to": "b"}', idempotency_key => 'pay-1')$$),
  jsonb_build_object('sqlstate', 'PT409', 'reason', 'idempotency_conflict', 'field', 'idempotency_key',
                     'index', 0, 'job_id', (select id from first)),
  'another payload under it is PT409 idempotency_conflict naming the finished job');
create temp table batch as
  select row_number() over () as n, b.*
    from api.enqueue_batch('[{"queue": "idem", "type": "send", "payload": {"to": "a"}, "idempotency_key": "pay-1"},
                             {"queue": "idem", "type": "send", "payload": {"to": "z"}, "idempotency_key": "pay-2"},
                             {"queue": "idem", "type": "send", "payload": {"to": "z"}, "idempotency_key": "pay-2"}]') b;
select results_eq($$select n, duplicate, status from batch order by n$$,
  $$values (1::bigint, true, 'succeeded'::text), (2, false, 'queued'), (3, true, 'queued')$$,
  'a batch mixes a finished key, a new key and its repeat');
select is((select count(*)::integer from tests.all_jobs where idempotency_key in ('pay-1', 'pay-2')), 2,
  'one job per key');
select is((select count(*)::integer from collab.job_events where job_id = (select id from first)), 4,
  'the repeats wrote no event (enqueued, claimed, progress, succeeded)');

-- A purged job frees its key, as it did when it left collab.jobs for good.
create temp table doomed as
  select * from api.enqueue('idem', 'send', '{"to": "d"}', idempotency_key => 'pay-3');
select api.claim((select id from worker), array['idem'], 10, 30);
select api.fail((select id from doomed), (select lease_token from collab.jobs where id = (select id from doomed)),
                '{}', false);
select is(pg_temp.error_of($$select api.enqueue('idem', 'send', '{"to": "e"}', idempotency_key => 'pay-3')$$) ->> 'reason',
  'idempotency_conflict', 'a dead job keeps its key');
select is(api.purge_dead('idem'), 1::bigint, 'purge_dead deletes the dead job');
select is((select count(*)::integer from collab.idempotency_keys where key = 'pay-3'), 0, 'and its key');
create temp table reborn as
  select * from api.enqueue('idem', 'send', '{"to": "e"}', idempotency_key => 'pay-3');
select ok((select not duplicate and id <> (select id from doomed) from reborn),
  'the key makes a new job again');
select is((select count(*)::integer from collab.check_invariants()), 0, 'every invariant holds');

select * from finish();
ROLLBACK;
