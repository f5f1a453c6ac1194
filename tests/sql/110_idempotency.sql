-- An idempotency key makes an enqueue safe to repeat: the same queue, type and payload
-- return the existing job (duplicate = true, no new event); anything else under the key is
-- PT409 idempotency_conflict and writes nothing. Repeats inside one batch behave the same.
BEGIN;
select plan(16);

-- The DETAIL of the error a statement raises, with its SQLSTATE (null when it succeeds).
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

create temp table first as
  select * from api.enqueue('emails', 'send', '{"to": "a"}', idempotency_key => 'order-42');
create temp table again as
  select * from api.enqueue('emails', 'send', '{"to": "a"}', idempotency_key => 'order-42');

select is((select duplicate from first), false, 'the first enqueue makes a new job');
select is((select id from again), (select id from first), 'the repeat returns the same job');
select is((select duplicate from again), true, 'flagged duplicate = true');
select is((select count(*) from tests.all_jobs where idempotency_key = 'order-42'), 1::bigint, 'there is one job under the key');
select is((select count(*) from collab.job_events where job_id = (select id from first)), 1::bigint,
  'the repeat wrote no event');

select throws_ok($$select api.enqueue('emails', 'send', '{"to": "b"}', idempotency_key => 'order-42')$$,
  'PT409', null, 'a different payload under the key is refused');
select is(pg_temp.error_of($$select api.enqueue('emails', 'send', '{"to": "b"}', idempotency_key => 'order-42')$$),
  jsonb_build_object('sqlstate', 'PT409', 'reason', 'idempotency_conflict', 'field', 'idempotency_key',
                     'index', 0, 'job_id', (select id from first)),
  'the DETAIL says idempotency_conflict and names the existing job');
select throws_ok($$select api.enqueue('emails', 'notify', '{"to": "a"}', idempotency_key => 'order-42')$$,
  'PT409', null, 'a different type under the key is refused');
select throws_ok($$select api.enqueue('sms', 'send', '{"to": "a"}', idempotency_key => 'order-42')$$,
  'PT409', null, 'a different queue under the key is refused');
select is((select count(*) from tests.all_jobs where idempotency_key = 'order-42'), 1::bigint,
  'the conflicts changed nothing');

-- Inside one batch.
create temp table batch as
  select row_number() over () as n, b.*
    from api.enqueue_batch('[{"queue": "emails", "type": "send", "payload": {"to": "c"}, "idempotency_key": "k-c"},
                             {"queue": "emails", "type": "send", "payload": {"to": "d"}},
                             {"queue": "emails", "type": "send", "payload": {"to": "c"}, "idempotency_key": "k-c"},
                             {"queue": "emails", "type": "send", "payload": {"to": "a"}, "idempotency_key": "order-42"}]') b;
select results_eq($$select n, duplicate from batch order by n$$,
  $$values (1::bigint, false), (2, false), (3, true), (4, true)$$,
  'in a batch the first use of a key is new, its repeat and an existing key are duplicates');
select is((select id from batch where n = 3), (select id from batch where n = 1), 'the repeat inside the batch is the same job');
select is((select id from batch where n = 4), (select id from first), 'an existing key returns the existing job');
select is((select count(*) from collab.job_events where job_id in (select id from batch)), 3::bigint,
  'the batch wrote one event per new job only (k-c, the unkeyed job, and the first job''s own)');

select is(pg_temp.error_of($$select api.enqueue_batch('[{"queue": "emails", "type": "send", "payload": {"to": "e"}, "idempotency_key": "k-e"},
                                                         {"queue": "emails", "type": "send", "payload": {"to": "f"}, "idempotency_key": "k-e"}]')$$)
         - 'job_id',
  '{"sqlstate": "PT409", "reason": "idempotency_conflict", "field": "idempotency_key", "index": 1}'::jsonb,
  'two different jobs under one key in a batch: the second is refused');
select is((select count(*) from tests.all_jobs where idempotency_key = 'k-e'), 0::bigint, 'and nothing of that batch was written');

select * from finish();
ROLLBACK;
