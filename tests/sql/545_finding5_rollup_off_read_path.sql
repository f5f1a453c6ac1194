-- Security review finding 5: api.metrics_summary only reads. It used to roll the metrics up
-- inside the caller's transaction (a row lock and an UPDATE: a transaction id), and
-- api.events_since serves only events below the snapshot xmin of the whole database, so a
-- viewer holding that transaction open held back every tenant's stream. The rollup now runs
-- from the reaper (collab.reap, api.reap, pg_cron). The API roles get a statement_timeout.

-- First, outside any test transaction (pgTAP itself writes, so its transaction has an id):
-- one call in a transaction of its own, as the service role in the default workspace.
select set_config('request.jwt.claims', '{"role": "service_role"}', false) is not null as claims_set \gset
set role service_role;
select api.metrics_summary('all') is not null as summary_read,
       pg_current_xact_id_if_assigned() is null as no_xid \gset
reset role;
select set_config('request.jwt.claims', '', false) is not null as claims_reset \gset

BEGIN;
select plan(8);

select ok(:'summary_read' and :'no_xid', 'metrics_summary took no transaction id (its own transaction)');
select is((select p.provolatile::text from pg_proc p where p.oid = 'api.metrics_summary(text, text)'::regprocedure), 's',
          'metrics_summary is stable: PostgREST runs it read-only (GET)');
select is((select p.provolatile::text from pg_proc p where p.oid = 'api.metrics_prometheus()'::regprocedure), 's',
          'metrics_prometheus too');

select tests.tenancy_fixture();

-- The reaper rolls up: its horizon reaches the snapshot's xmin.
update collab.metrics_rollup_state set horizon = '1';
select collab.reap();
select is((select s.horizon from collab.metrics_rollup_state s), pg_snapshot_xmin(pg_current_snapshot()),
          'collab.reap rolled the metrics up to the snapshot xmin');

select ok((select bool_and(exists (
             select 1 from pg_db_role_setting s
              where s.setrole = r.oid and s.setdatabase = 0
                and exists (select 1 from unnest(s.setconfig) c where c like 'statement_timeout=%')))
             from pg_roles r where r.rolname in ('authenticated', 'anon')),
          'the API roles authenticated and anon have a statement_timeout (PostgREST applies it per request)');

-- A viewer's call works in a read-only transaction (as PostgREST runs a stable function on GET).
update collab.metrics_rollup_state set horizon = '1';  -- something to roll up, as before
select tests.authenticate_as(tests.id('viewer'));
set local transaction_read_only = on;
select is(tests.outcome($$select api.metrics_summary('all')$$), '{"sqlstate": "ok"}'::jsonb,
          'a viewer''s metrics_summary runs in a read-only transaction (it writes nothing)');
select is(tests.outcome($$select api.metrics_prometheus()$$), '{"sqlstate": "ok"}'::jsonb,
          'so does metrics_prometheus');
select is((api.metrics_summary('all') -> 'totals' -> 'counters' ->> 'enqueued'), '3',
          'and still counts every event (read live above the horizon)');

select * from finish();
ROLLBACK;
