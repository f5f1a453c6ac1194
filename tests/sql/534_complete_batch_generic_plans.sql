-- api.complete_batch runs on generic plans (planned once per session, not at every call), and
-- those plans find each job by primary key: with 400 jobs running and statistics taken while
-- none ran, batches of 5 read no other index entry of collab.jobs than the primary key's and
-- never scan the table sequentially.
BEGIN;
select plan(5);

select is((select array_to_string(p.proconfig, ',') from pg_proc p
            where p.oid = 'api.complete_batch(jsonb)'::regprocedure),
          'search_path=pg_catalog, pg_temp,plan_cache_mode=force_generic_plan,enable_bitmapscan=off,enable_seqscan=off,jit=off',
          'api.complete_batch sets plan_cache_mode = force_generic_plan, enable_bitmapscan = off, enable_seqscan = off and jit = off');

select api.register_executor('batch-probe', array['cb']) as ex \gset
select count(*) from api.enqueue_batch(
  (select jsonb_agg(jsonb_build_object('queue', 'cb', 'type', 'probe')) from generate_series(1, 400)));
analyze collab.jobs;
create temp table held as
  select row_number() over (order by id) as n, id, lease_token from api.claim(:'ex', array['cb'], 400, 300);
select is((select count(*)::integer from held), 400, '400 jobs running');

select tests.side_reads() as side0, pg_stat_get_xact_numscans('collab.jobs'::regclass) as seq0 \gset

-- 10 calls of 5: past the 5 custom plans plpgsql would otherwise try first.
create temp table outcomes as
select o.* from generate_series(0, 9) b,
  lateral api.complete_batch((select jsonb_agg(jsonb_build_object('job_id', h.id, 'lease_token', h.lease_token))
                                from held h where h.n > b * 5 and h.n <= b * 5 + 5)) o;
select is((select count(*)::integer from outcomes where ok), 50, '10 batches of 5 completed 50 jobs');
select is(tests.side_reads() - :side0, 0::bigint, 'no index entry read but the primary key''s');
select is(pg_stat_get_xact_numscans('collab.jobs'::regclass) - :seq0, 0::bigint,
          'no sequential scan of collab.jobs');

select * from finish();
ROLLBACK;
