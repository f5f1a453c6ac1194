-- A short claim tells a claim conflict from the pick's own walk of the claim index (its count
-- of visible rows fetched, before and after the pick, against the rows it locked), not from a
-- second walk: under a snapshot held open (an idle transaction) every walk reads the entries
-- of all the jobs claimed since, and a short claim paid for two (docs/bench.md). With one queue
-- a short claim scans jobs_queued_claim_idx once; with several, a second look (one exists per
-- queue) happens only when the pick skipped rows, to say which queue held them. That a skipped
-- row is counted, and a short claim that took every due job is not: tests/sql/304 and
-- tests/py/integration/test_metrics_signals.py (a second connection holds the rows).
BEGIN;
select plan(5);

select api.register_executor('walk-probe', array['walk-a', 'walk-b']) as ex \gset
select count(*) from api.enqueue_batch('[{"queue": "walk-a", "type": "t"}, {"queue": "walk-a", "type": "t"},
                                         {"queue": "walk-b", "type": "t"}]');

create function pg_temp.claim_index_scans() returns bigint language sql as $$
  select pg_stat_get_xact_numscans('collab.jobs_queued_claim_idx'::regclass)
$$;

select pg_temp.claim_index_scans() as before \gset
select is((select count(*)::integer from api.claim(:'ex', array['walk-a'], 5, 60)), 2,
  'a short claim of one queue takes its two due jobs');
select is(pg_temp.claim_index_scans() - :before, 1::bigint,
  'and scans the claim index once: the pick');
select is((select count(*) from collab.metrics_signals where kind = 'claim_conflict'), 0::bigint,
  'nothing skipped: no conflict');

select pg_temp.claim_index_scans() as before \gset
select is((select count(*)::integer from api.claim(:'ex', array['walk-a', 'walk-b'], 5, 60)), 1,
  'a short claim of two queues takes the one due job left');
select is(pg_temp.claim_index_scans() - :before, 2::bigint,
  'and scans the claim index once a queue, with no second look when nothing was skipped');

select * from finish();
ROLLBACK;
