-- ANALYZE holds a snapshot while it reads its sample: the hot table is analyzed from 3,000
-- rows (statistics target 10 on every column), not 30,000 (revision 0035, docs/bench.md), as
-- the history (tests/sql/560) and the event stream are. tests/sql/520 plans every filter of
-- api.list_jobs with these statistics.
BEGIN;
select plan(3);

select is((select string_agg(a.attname, ' ' order by a.attnum)
             from pg_attribute a
            where a.attrelid = 'collab.jobs'::regclass and a.attnum > 0 and not a.attisdropped
              and a.attstattarget is distinct from 10),
          null, 'every column of collab.jobs has statistics target 10');

-- 20,000 queued jobs with distinct times, over 50 queues of which the first are the busiest: at
-- the default target their statistics would hold 101 histogram bounds and all 50 queues as
-- common values, at 10 no more than 11 bounds and 10 values.
alter table collab.jobs disable trigger user;  -- no events needed for statistics; rolled back
insert into collab.jobs (workspace_id, queue, type, run_at, max_attempts, created_at)
select collab.default_workspace_id(), 'q' || floor(50 * (i / 20000.0) ^ 3), 't', now() - i * interval '1 second', 5,
       now() - i * interval '1 second'
  from generate_series(1, 20000) i;
analyze collab.jobs;
select cmp_ok((select cardinality(histogram_bounds::text::text[]) from pg_stats
                where schemaname = 'collab' and tablename = 'jobs' and attname = 'created_at'),
              '<=', 11, 'ANALYZE of collab.jobs keeps at most 11 histogram bounds of created_at');
select ok((select cardinality(most_common_vals::text::text[]) between 1 and 10 from pg_stats
            where schemaname = 'collab' and tablename = 'jobs' and attname = 'queue'),
          'and from 1 to 10 common values of queue (of 50)');

select * from finish();
ROLLBACK;
