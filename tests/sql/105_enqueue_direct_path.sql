-- api.enqueue's direct path (no idempotency key, run_at or delay, every argument valid) gives
-- the same job, event and errors as the same job sent through api.enqueue_batch, and every
-- call it does not admit still gets api.enqueue_batch's answer.
BEGIN;
select plan(12);

create function pg_temp.error_of(statement text) returns jsonb language plpgsql as $$
declare
  state text;
  message text;
  detail text;
begin
  execute statement;
  return null;
exception when others then
  get stacked diagnostics state = returned_sqlstate, message = message_text, detail = pg_exception_detail;
  return coalesce(nullif(detail, '')::jsonb, '{}'::jsonb)
         || jsonb_build_object('sqlstate', state, 'message', message);
end
$$;

-- The fields a job is made of, without its id and the times.
create function pg_temp.shape(j api.job) returns jsonb language sql as $$
  select to_jsonb(j) - '{id,run_at,created_at}'::text[]
$$;

select is(pg_temp.shape(api.enqueue('direct', 'send', '{"to": "a", "cc": null}', 7)),
          pg_temp.shape((select b from api.enqueue_batch('[{"queue": "direct", "type": "send",
            "payload": {"to": "a", "cc": null}, "priority": 7}]') b)),
          'the direct path makes the job the batch path makes');
select is((select payload from api.enqueue('direct', 'send', '{"cc": null}')), '{"cc": null}'::jsonb,
          'nulls inside the payload are kept (direct path)');
select is((select payload from api.enqueue('direct', 'send', '{"cc": null}', idempotency_key => 'k-null')),
          '{"cc": null}'::jsonb,
          'nulls inside the payload are kept (through the batch path)');
select is(pg_temp.shape(api.enqueue('direct', 'send', null, max_attempts => 1000)),
          pg_temp.shape((select b from api.enqueue_batch('[{"queue": "direct", "type": "send", "max_attempts": 1000}]') b)),
          'a null payload and the highest max_attempts agree');
select is(pg_temp.shape(api.enqueue('fresh-queue', 'send')) ->> 'max_attempts', '5',
          'a queue made on first use by the direct path gives its default max_attempts');
select ok(exists (select 1 from collab.queues where name = 'fresh-queue'), 'and it exists');
select results_eq(
  $$select type::text, queue, job_type, attempt, data ? 'priority' and data ? 'run_at'
      from collab.job_events where job_id = (select max(id) from tests.all_jobs)$$,
  $$values ('enqueued', 'fresh-queue', 'send', 0, true)$$,
  'the direct path writes the one enqueued event');

-- Calls the direct path does not admit: the same error as the batch path, word for word.
select is(pg_temp.error_of($$select api.enqueue('direct', 'send', priority => 1000001)$$),
          pg_temp.error_of($$select api.enqueue_batch('[{"queue": "direct", "type": "send", "priority": 1000001}]')$$),
          'a priority out of range: the batch path''s error');
select is(pg_temp.error_of($$select api.enqueue('direct', 'send', max_attempts => 0)$$),
          pg_temp.error_of($$select api.enqueue_batch('[{"queue": "direct", "type": "send", "max_attempts": 0}]')$$),
          'max_attempts out of range: the batch path''s error');
select is(pg_temp.error_of($$select api.enqueue('bad queue', 'send')$$),
          pg_temp.error_of($$select api.enqueue_batch('[{"queue": "bad queue", "type": "send"}]')$$),
          'a bad queue name: the batch path''s error');
update collab.workspaces set max_payload_bytes = 24 where id = collab.default_workspace_id();
select is(pg_temp.error_of($$select api.enqueue('direct', 'send', '{"blob": "0123456789abc"}')$$),
          pg_temp.error_of($$select api.enqueue_batch('[{"queue": "direct", "type": "send", "payload": {"blob": "0123456789abc"}}]')$$),
          'a payload over the workspace''s max_payload_bytes: the batch path''s error');
select is(pg_temp.error_of($$select api.enqueue('direct', 'send', '{"blob": "0123456789ab"}')$$), null,
          'a payload of exactly max_payload_bytes is taken');

select * from finish();
ROLLBACK;
