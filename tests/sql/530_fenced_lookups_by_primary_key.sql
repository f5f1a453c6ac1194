-- The fenced calls (complete, complete_batch, fail, progress), a heartbeat naming its jobs (with
-- their lease tokens or without) and
-- the lease release find their
-- job by primary key, however many jobs are running: with 400 jobs running and statistics
-- taken while none ran (so "running" looks rare to the planner), under generic plans, no
-- other index of collab.jobs is walked and the table is never scanned sequentially. Written as status = 'running', the lookup took
-- jobs_list_status_idx or a partial running index and read every running job for each call.
BEGIN;
select plan(9);

create function pg_temp.pkey_scans() returns bigint language sql as $$
  select pg_stat_get_xact_numscans('collab.jobs_pkey'::regclass)
$$;

select api.register_executor('fence-probe', array['fence']) as ex \gset
select count(*) from api.enqueue_batch(
  (select jsonb_agg(jsonb_build_object('queue', 'fence', 'type', 'probe')) from generate_series(1, 400)));
analyze collab.jobs;
create temp table held as select * from api.claim(:'ex', array['fence'], 400, 300);
select is((select count(*)::integer from held), 400, '400 jobs running');

set local plan_cache_mode = force_generic_plan;
create temp table reads (call text, side bigint, pkey bigint, seq bigint);

-- Each call: the reads of the other indexes and the primary-key scans it made.
create function pg_temp.measure(call text, statement text) returns void language plpgsql as $$
declare
  side0 bigint := tests.side_reads();
  pkey0 bigint := pg_temp.pkey_scans();
  seq0 bigint := pg_stat_get_xact_numscans('collab.jobs'::regclass);
begin
  execute statement;
  insert into reads values (call, tests.side_reads() - side0, pg_temp.pkey_scans() - pkey0,
                            pg_stat_get_xact_numscans('collab.jobs'::regclass) - seq0);
end
$$;
-- Six calls of each first, so that plpgsql switches to its generic plans, then the measured one.
select pg_temp.measure('warm-up', format('select api.progress(%s, %L, 0.5)', h.id, h.lease_token))
  from (select * from held order by id offset 10 limit 6) h;
select pg_temp.measure('progress', format('select api.progress(%s, %L, 0.5)', h.id, h.lease_token))
  from (select * from held order by id limit 1) h;
select pg_temp.measure('warm-up', format('select api.complete(%s, %L)', h.id, h.lease_token))
  from (select * from held order by id offset 20 limit 6) h;
select pg_temp.measure('complete', format('select api.complete(%s, %L)', h.id, h.lease_token))
  from (select * from held order by id offset 1 limit 1) h;
select pg_temp.measure('warm-up', format('select api.fail(%s, %L, %L)', h.id, h.lease_token, '{"reason": "probe"}'))
  from (select * from held order by id offset 30 limit 6) h;
select pg_temp.measure('fail', format('select api.fail(%s, %L, %L)', h.id, h.lease_token, '{"reason": "probe"}'))
  from (select * from held order by id offset 2 limit 1) h;
-- A heartbeat naming its jobs finds them by primary key (revision 0036); one without job_ids
-- walks the executor's running jobs by design (it extends all their leases): there only the
-- no-sequential-scan rule applies.
select pg_temp.measure('warm-up', format('select api.heartbeat(%L, %L)', :'ex',
         (select array_agg(h.id) from (select * from held order by id offset 40 limit 5) h)))
  from generate_series(1, 6);
select pg_temp.measure('heartbeat', format('select api.heartbeat(%L, %L)', :'ex',
         (select array_agg(h.id) from (select * from held order by id offset 200 limit 50) h)));
select pg_temp.measure('warm-up', format('select api.heartbeat(%L, %L, %L)', :'ex',
         (select array_agg(h.id order by h.id) from (select * from held order by id offset 40 limit 5) h),
         (select array_agg(h.lease_token order by h.id) from (select * from held order by id offset 40 limit 5) h)))
  from generate_series(1, 6);
select pg_temp.measure('heartbeat, tokens', format('select api.heartbeat(%L, %L, %L)', :'ex',
         (select array_agg(h.id order by h.id) from (select * from held order by id offset 250 limit 50) h),
         (select array_agg(h.lease_token order by h.id) from (select * from held order by id offset 250 limit 50) h)));
select pg_temp.measure('heartbeat, all', format('select api.heartbeat(%L)', :'ex'));
select pg_temp.measure('complete_batch', format('select count(*) from api.complete_batch(%L)',
         (select jsonb_agg(jsonb_build_object('job_id', h.id, 'lease_token', h.lease_token))
            from (select * from held order by id offset 100 limit 50) h)));

select is((select side from reads where call = 'progress'), 0::bigint,
          'progress reads no index but the primary key (' || (select side from reads where call = 'progress') || ' entries read)');
select is((select side from reads where call = 'complete'), 0::bigint,
          'complete reads no index but the primary key (' || (select side from reads where call = 'complete') || ' entries read)');
select is((select side from reads where call = 'fail'), 0::bigint,
          'fail reads no index but the primary key (' || (select side from reads where call = 'fail') || ' entries read)');
select cmp_ok((select side from reads where call = 'complete_batch'), '<', 50::bigint,
          'complete_batch of 50 reads fewer than 50 entries of other indexes (' || (select side from reads where call = 'complete_batch') || ')');
select is((select side from reads where call = 'heartbeat'), 0::bigint,
          'a heartbeat naming 50 jobs reads no index but the primary key (' || (select side from reads where call = 'heartbeat') || ' entries read)');
select is((select side from reads where call = 'heartbeat, tokens'), 0::bigint,
          'a heartbeat naming 50 jobs with their lease tokens reads no index but the primary key (' || (select side from reads where call = 'heartbeat, tokens') || ' entries read)');
select cmp_ok((select pkey from reads where call = 'complete'), '>', 0::bigint, 'and complete did use the primary key');
select is((select sum(seq) from reads)::bigint, 0::bigint,
          'no call scanned collab.jobs sequentially (' ||
          (select string_agg(call || ' ' || seq, ', ') from reads where seq > 0) || ')');

select * from finish();
ROLLBACK;
