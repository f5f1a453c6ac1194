-- Found by the long fuzz run: after api.purge_events (event retention) removed the whole
-- history of old jobs, check_invariants reported every one of them as job_without_events,
-- so `collab doctor` failed on a healthy database. Retention deletes the oldest prefix of
-- the stream; a job created before the oldest event kept may have lost all its events, one
-- created after it may not.
BEGIN;
select plan(4);

set local collab.clock_offset = '-10 days';
create temp table old_job as select id from api.enqueue('retention', 't');
set local collab.clock_offset = '-5 days';
create temp table mid_job as select id from api.enqueue('retention', 't');
set local collab.clock_offset = '0';
create temp table new_job as select id from api.enqueue('retention', 't');

-- Retention removed the oldest prefix: the old job's history.
delete from collab.job_events where job_id = (select id from old_job);
select is(
  (select count(*)::int from collab.check_invariants() where invariant = 'job_without_events'),
  0, 'a job whose whole history retention removed is not a violation');

-- A hole after the oldest event kept is not retention: it is still reported.
delete from collab.job_events where job_id = (select id from new_job);
select results_eq(
  $$select job_id from collab.check_invariants() where invariant = 'job_without_events'$$,
  $$select id from new_job$$,
  'a job created after the oldest event kept and without events is a violation');

-- A purge's batch (or its rule that the newest event stays) can end inside one transaction's
-- events: its jobs share the oldest kept event's time, and those whose events went are not
-- violations. Found by bench/retention.py's test: purging all but the head of one batch of
-- 600 jobs reported the other 599 before revision 0028.
set local collab.clock_offset = '-3 days';
create temp table batch as select id from api.enqueue_batch('[{"queue": "retention", "type": "t"},
                                                            {"queue": "retention", "type": "t"}]');
set local collab.clock_offset = '0';
delete from collab.job_events
 where job_id = (select id from old_job) or job_id = (select id from mid_job)
    or job_id = (select min(id) from batch);
select is(
  (select count(*)::int from collab.check_invariants()
    where invariant = 'job_without_events' and job_id <> (select id from new_job)),
  0, 'a job of the transaction that wrote the oldest event kept may have lost its events');

-- With no job event left at all, every job without events is reported.
delete from collab.job_events where job_id is not null;
select is(
  (select count(*)::int from collab.check_invariants() where invariant = 'job_without_events'),
  5, 'an empty stream reports every job');

select * from finish();
ROLLBACK;
