-- Outcomes beyond the happy path are counted from their events: an expired lease reclaimed
-- by a claim (lease_expirations, failed), the same on the last attempt (dead, with reason
-- lease_expired), a cancel, a requeue from the DLQ; and outcomes that write no event are
-- counted from metrics_signals rows appended by collab.metrics_signal.
BEGIN;
select plan(9);

create temp table w as select api.register_executor('metrics-303', array['metrics-303']) as id;
create temp table j as
  select (api.enqueue('metrics-303', 'x', jsonb_build_object('n', g), max_attempts => case when g = 1 then 2 else 1 end)).id as id, g
    from generate_series(1, 3) g;
-- Job 1 (2 attempts) and job 2 (1 attempt) are claimed with a 10 s lease; job 3 is cancelled.
select count(*) from api.claim((select id from w), array['metrics-303'], 2, lease_seconds => 10);
select api.cancel((select id from j where g = 3));
-- 11 s later a claim reclaims both expired leases: job 1 is retried, job 2 is dead.
set local collab.clock_offset = '11 seconds';
select count(*) from collab.expire_leases(collab.default_workspace_id(), array['metrics-303']);
select api.requeue(array[(select id from j where g = 2)]);

create temp table s as select api.metrics_summary('15m', 'metrics-303') -> 'totals' -> 'counters' as c;
select is((select (c ->> 'lease_expirations')::int from s), 2, 'both expired leases count, retried or dead');
select is((select (c ->> 'dead')::int from s), 1, 'the one on its last attempt went dead');
select is((select (c ->> 'failed')::int from s), 2, 'an expired lease is a failed attempt');
select is((select (c ->> 'retries')::int from s), 0, 'retries count only failures the executor reported');
select is((select (c ->> 'cancelled')::int from s), 1, 'a cancel');
select is((select (c ->> 'requeued')::int from s), 1, 'a requeue from the DLQ');
select is((select (api.metrics_summary('15m', 'metrics-303') #>> '{totals,latency,run_time,p50}')::float), 11::float,
  'run time of an attempt that died with its lease: claim to reclaim');

select collab.metrics_signal('idempotent_duplicate', collab.default_workspace_id(), 'metrics-303', 'x', 3);
select collab.metrics_signal('fencing_rejection', collab.default_workspace_id(), 'metrics-303', 'x');
select collab.metrics_signal('claim_conflict', collab.default_workspace_id(), 'metrics-303', 'x', 0);
select is((select api.metrics_summary('15m', 'metrics-303') -> 'totals' -> 'counters'
            -> 'idempotent_duplicates'), '3'::jsonb, 'signals count: idempotent duplicates');
select is((select jsonb_build_array(c -> 'fencing_rejections', c -> 'claim_conflicts')
             from (select api.metrics_summary('15m', 'metrics-303') -> 'totals' -> 'counters' as c) x),
  '[1, 0]'::jsonb, 'a fencing rejection; a zero count appends nothing');

select * from finish();
ROLLBACK;
