-- api.claim runs on generic plans (planned once per session, not at every call), and those
-- plans never scan collab.jobs: the claimed ids are collected through the claim index and the
-- rows updated by primary key, for queues with and without a concurrency limit.
BEGIN;
select plan(6);

select is((select array_to_string(p.proconfig, ',') from pg_proc p
            where p.oid = 'api.claim(uuid, text[], integer, integer)'::regprocedure),
          'search_path=pg_catalog, pg_temp,plan_cache_mode=force_generic_plan,enable_bitmapscan=off,enable_seqscan=off,enable_sort=off,jit=off',
          'api.claim sets plan_cache_mode = force_generic_plan, enable_bitmapscan, enable_seqscan and enable_sort off, and jit off');

select api.register_executor('generic-probe', array['gp-open', 'gp-limited']) as ex \gset
select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', q, 'type', 'probe'))
                                          from generate_series(1, 3000) i,
                                               unnest(array['gp-open', 'gp-limited']) q));
select api.configure_queue('gp-limited', concurrency_limit => 50);
analyze collab.jobs;

create function pg_temp.seq_scans() returns bigint language sql as $$
  select pg_stat_get_xact_numscans('collab.jobs'::regclass)
$$;
select pg_temp.seq_scans() as before \gset
create temp table got as
select c.queue from generate_series(1, 8) i, lateral api.claim(:'ex', array['gp-open'], 5 + 0 * i, 60) c;  -- 0 * i: once per i
select is((select count(*)::integer from got), 40, '8 claims of 5 from a queue without a limit');
insert into got
select c.queue from generate_series(1, 8) i, lateral api.claim(:'ex', array['gp-limited'], 5 + 0 * i, 60) c;
select is((select count(*)::integer from got where queue = 'gp-limited'), 40,
          '8 claims of 5 from a queue with a concurrency limit');
select is(pg_temp.seq_scans() - :before, 0::bigint, 'no sequential scan of collab.jobs');
select is((select count(*)::integer from collab.jobs where status = 'running'), 80, 'exactly the claimed jobs run');
select is((select count(distinct lease_token)::integer from collab.jobs where status = 'running'), 80,
          'each with its own lease token');

select * from finish();
ROLLBACK;
