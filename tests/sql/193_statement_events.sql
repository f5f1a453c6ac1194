-- The claim and the moves of api.complete and api.complete_batch write their events in the
-- statement that changes the jobs (collab.statement_events, collab.jobs_after_update): each
-- job still gets exactly one event of the right content, the setting never outlives the
-- statement, every other write still gets its event from the trigger, and a caller that sets
-- the value by hand gets its events all the same.
BEGIN;
select plan(16);

create temp table worker as select api.register_executor('worker-se', array['se']) as id;
select api.enqueue('se', 't', jsonb_build_object('n', g)) from generate_series(1, 5) g;
create temp table got as select * from api.claim((select id from worker), array['se'], 5, 60);
grant select on got to service_role;

select is((select array_agg(e.job_id order by e.id) from collab.job_events e
            where e.type = 'claimed' and e.job_id in (select id from got)),
          (select array_agg(id order by id) from got),
          'claim: one claimed event per job, in the order of the job ids');
select is((select count(*) from collab.job_events e join got g on g.id = e.job_id
            where e.type = 'claimed' and e.queue = 'se' and e.job_type = 't' and e.attempt = 1
              and e.executor_id = (select id from worker)
              and (e.data ->> 'lease_expires_at')::timestamptz = g.lease_expires_at
              and e.created_at = collab.clock() and e.xid = pg_current_xact_id()),
          5::bigint, 'each claimed event carries the job''s queue, type, attempt, executor and lease');
select is(coalesce(current_setting('collab.statement_events', true), ''), '', 'the setting is cleared after the claim');

-- A write of another kind in the same transaction, after the claim: the trigger writes its event.
update collab.jobs set cancel_requested = true, last_event = 'cancel_requested'
 where id = (select min(id) from got);
select is((select array_agg(e.type::text order by e.id) from collab.job_events e where e.job_id = (select min(id) from got)),
          array['enqueued', 'claimed', 'cancel_requested'], 'a direct update after the claim gets its event from the trigger');

select api.complete(g.id, g.lease_token, '{"ok": 1}') from got g where g.id = (select max(id) from got);
select is((select array_agg(e.type::text order by e.id) from collab.job_events e where e.job_id = (select max(id) from got)),
          array['enqueued', 'claimed', 'succeeded'], 'complete: one succeeded event');
select is((select count(*) from collab.job_events e join collab.job_history h on h.id = e.job_id
            where e.job_id = (select max(id) from got) and e.type = 'succeeded' and e.attempt = h.attempt
              and e.executor_id = h.executor_id and e.queue = h.queue and e.job_type = h.type
              and e.data = '{}' and e.xid = pg_current_xact_id()),
          1::bigint, 'the succeeded event carries the job''s attempt, executor, queue and type');
select is(coalesce(current_setting('collab.statement_events', true), ''), '', 'the setting is cleared after complete');
select is((select count(*) from collab.job_events e where e.job_id = (select max(id) from got)),
          3::bigint, 'a repeated complete writes nothing');

-- complete_batch: two jobs under their tokens, one with a stale token.
create temp table batch as
  select * from api.complete_batch((select jsonb_agg(x) from (
    select jsonb_build_object('job_id', g.id, 'lease_token', g.lease_token) as x from got g
     where g.id in (select id from got order by id offset 1 limit 2)
    union all
    select jsonb_build_object('job_id', g.id, 'lease_token', gen_random_uuid()) from got g
     where g.id = (select id from got order by id offset 3 limit 1)) s));
select is((select count(*) from batch where ok), 2::bigint, 'complete_batch: two completed, one refused');
select is((select array_agg(e.job_id order by e.id) from collab.job_events e
            where e.type = 'succeeded' and e.job_id in (select id from got order by id offset 1 limit 3)),
          (select array_agg(id order by id) from (select id from got order by id offset 1 limit 2) s),
          'complete_batch: one succeeded event per completed job, in id order, none for the refused one');
select is(coalesce(current_setting('collab.statement_events', true), ''), '', 'the setting is cleared after complete_batch');

-- A caller that sets the value by hand (service_role may write the tables directly) is
-- refused: only code running as the tables' owner may skip the triggers. The write fails
-- whole: no change without its event.
set local role service_role;
select set_config('collab.statement_events', 'collab.jobs', true);
select throws_ok($$update collab.jobs set cancel_requested = true, last_event = 'cancel_requested'
                    where id = (select id from got order by id offset 3 limit 1)$$,
  '42501', 'collab.statement_events names collab.jobs but this writer does not own it',
  'service_role setting collab.jobs by hand: its update is refused');
select set_config('collab.statement_events', 'collab.job_history', true);
select throws_ok($$with m as (delete from collab.jobs where id = (select id from got order by id offset 3 limit 1) returning *)
  insert into collab.job_history
  select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'cancelled', 'cancelled',
         m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
         m.lease_seconds, null, m.cancel_requested, m.progress, m.progress_message,
         null, m.last_error, m.created_at, m.claimed_at, now()
    from m$$,
  '42501', 'collab.statement_events names collab.job_history but this writer does not own it',
  'service_role setting collab.job_history by hand: its move is refused');
reset role;
select is((select array_agg(e.type::text order by e.id) from collab.job_events e
            where e.job_id = (select id from got order by id offset 3 limit 1)),
          array['enqueued', 'claimed'], 'neither write changed the job or wrote an event');
select ok((select bool_and(pg_catalog.has_table_privilege(p.proowner, t.rel::regclass, 'TRUNCATE WITH GRANT OPTION'))
             from pg_proc p cross join (values ('collab.jobs'), ('collab.job_history')) t(rel)
            where p.oid in ('api.claim(uuid, text[], integer, integer)'::regprocedure,
                            'api.complete(bigint, uuid, jsonb)'::regprocedure,
                            'api.complete_batch(jsonb)'::regprocedure)),
  'the functions that write their own events run as a role that may say so to the triggers');
select is((select count(*) from api.check_invariants()), 0::bigint, 'the invariants hold');

select * from finish();
ROLLBACK;
