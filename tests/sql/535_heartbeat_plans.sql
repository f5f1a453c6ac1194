-- api.heartbeat reads the executor's running jobs by an index scan (which marks the entries of
-- its finished jobs dead as it passes them), never by a bitmap or a sequential scan (revision
-- 0011; tests/py/integration/test_claim_plan_without_statistics.py follows a worker's rounds
-- as collab.jobs grows), and still finds exactly the jobs the executor holds.
BEGIN;
select plan(4);

select is((select array_to_string(p.proconfig, ',') from pg_proc p
            where p.oid = 'api.heartbeat(uuid, bigint[], uuid[])'::regprocedure),
          'search_path=pg_catalog, pg_temp,enable_bitmapscan=off,enable_seqscan=off,jit=off',
          'api.heartbeat sets enable_bitmapscan = off, enable_seqscan = off and jit = off');

select api.register_executor('beat-probe', array['hb']) as ex \gset
select api.register_executor('beat-other', array['hb']) as other \gset
select count(*) from api.enqueue_batch(
  (select jsonb_agg(jsonb_build_object('queue', 'hb', 'type', 'probe')) from generate_series(1, 30)));
analyze collab.jobs;
create temp table mine as select id, lease_token from api.claim(:'ex', array['hb'], 20, 60);
create temp table theirs as select id from api.claim(:'other', array['hb'], 10, 60);
-- Ten of the executor's jobs finish before the heartbeat.
select count(*) from api.complete_batch(
  (select jsonb_agg(jsonb_build_object('job_id', m.id, 'lease_token', m.lease_token))
     from (select * from mine order by id limit 10) m));

select pg_stat_get_xact_numscans('collab.jobs'::regclass) as seq0 \gset
create temp table beat as
  select * from api.heartbeat(:'ex', (select array_agg(id order by id) from mine));
select is((select extended from beat), 10, 'the heartbeat extends the ten jobs the executor still holds');
select is((select lost from beat), (select array_agg(id order by id) from (select id from mine order by id limit 10) f),
          'and names the ten that finished as no longer held');
select is(pg_stat_get_xact_numscans('collab.jobs'::regclass) - :seq0, 0::bigint,
          'no sequential scan of collab.jobs');

select * from finish();
ROLLBACK;
