-- The scripted scenario: 10 jobs (5 of type a, 5 of type b), all claimed 2 s after enqueue;
-- 3 fail once and are retried, 2 fail for good (dead), 5 succeed 3 s after their claim; the 3
-- retries are claimed 1 s after their new run_at and succeed 4 s later. Every counter and
-- every latency of api.metrics_summary matches exactly.
BEGIN;
select plan(24);

create temp table w as select api.register_executor('metrics-1', array['metrics-scenario']) as id;
select count(*) from (
  select api.enqueue('metrics-scenario', case when g <= 5 then 'a' else 'b' end, jsonb_build_object('g', g), max_attempts => 2)
    from generate_series(1, 10) g) x;
set local collab.clock_offset = '2 seconds';
create temp table c1 as select * from api.claim((select id from w), array['metrics-scenario'], 10);
set local collab.clock_offset = '5 seconds';
select count(*) from (select api.fail(c.id, c.lease_token, '{}', retry_in => interval '0')
                        from c1 c where (c.payload ->> 'g')::int in (1, 2, 3)) x;
select count(*) from (select api.fail(c.id, c.lease_token, '{}', retryable => false)
                        from c1 c where (c.payload ->> 'g')::int in (9, 10)) x;
select count(*) from (select api.complete(c.id, c.lease_token)
                        from c1 c where (c.payload ->> 'g')::int in (4, 5, 6, 7, 8)) x;
set local collab.clock_offset = '6 seconds';
create temp table c2 as select * from api.claim((select id from w), array['metrics-scenario'], 10);
set local collab.clock_offset = '10 seconds';
select count(*) from (select api.complete(c.id, c.lease_token) from c2 c) x;

create temp table s as select api.metrics_summary('15m', 'metrics-scenario') as doc;

select is((select doc -> 'totals' -> 'counters' from s), jsonb_build_object(
  'enqueued', 10, 'claims', 13, 'claim_conflicts', 0, 'lease_expirations', 0, 'lease_releases', 0,
  'retries', 3, 'failed', 5, 'dead', 2, 'completed', 8, 'cancelled', 0, 'requeued', 0,
  'idempotent_duplicates', 0, 'fencing_rejections', 0), 'every counter of the scenario');

-- Queue wait: 10 claims at 2 s, 3 retries claimed 1 s after their run_at.
select is((select (doc #>> '{totals,latency,queue_wait,count}')::int from s), 13, 'queue wait: one per claim');
select is((select (doc #>> '{totals,latency,queue_wait,sum_seconds}')::float from s), 23::float, 'queue wait: 10 x 2 s + 3 x 1 s');
select is((select (doc #>> '{totals,latency,queue_wait,p50}')::float from s), 2::float, 'queue wait p50 = 2 s');
select is((select (doc #>> '{totals,latency,queue_wait,p95}')::float from s), 2::float, 'queue wait p95 = 2 s');
select is((select doc #> '{totals,latency,queue_wait,buckets,7}' from s), '["1", 3]'::jsonb, 'three waits of at most 1 s');
-- Run time: 10 first attempts of 3 s (5 succeeded, 3 retried, 2 dead), 3 second attempts of 4 s.
select is((select (doc #>> '{totals,latency,run_time,count}')::int from s), 13, 'run time: one per ended attempt');
select is((select (doc #>> '{totals,latency,run_time,sum_seconds}')::float from s), 42::float, 'run time: 10 x 3 s + 3 x 4 s');
select is((select (doc #>> '{totals,latency,run_time,p50}')::float from s), 3::float, 'run time p50 = 3 s');
select is((select (doc #>> '{totals,latency,run_time,p95}')::float from s), 4::float, 'run time p95 = 4 s');
select is((select (doc #>> '{totals,latency,run_time,p99}')::float from s), 4::float, 'run time p99 = 4 s');
-- End to end: 7 jobs finished at 5 s (5 succeeded, 2 dead), 3 at 10 s.
select is((select (doc #>> '{totals,latency,end_to_end,count}')::int from s), 10, 'end to end: one per finished job');
select is((select (doc #>> '{totals,latency,end_to_end,p50}')::float from s), 5::float, 'end to end p50 = 5 s');
select is((select (doc #>> '{totals,latency,end_to_end,p95}')::float from s), 10::float, 'end to end p95 = 10 s');
select is((select (doc #>> '{totals,latency,end_to_end,sum_seconds}')::float from s), 65::float, 'end to end: 7 x 5 s + 3 x 10 s');

-- Per queue and type: a had jobs 1-5 (3 retried, 2 succeeded first time), b had 6-10 (2 dead).
select is((select e -> 'counters' from s, jsonb_array_elements(doc -> 'by_queue_type') e where e ->> 'type' = 'a'),
  jsonb_build_object('enqueued', 5, 'claims', 8, 'claim_conflicts', 0, 'lease_expirations', 0, 'lease_releases', 0,
    'retries', 3, 'failed', 3, 'dead', 0, 'completed', 5, 'cancelled', 0, 'requeued', 0,
    'idempotent_duplicates', 0, 'fencing_rejections', 0), 'type a counters');
select is((select e -> 'counters' from s, jsonb_array_elements(doc -> 'by_queue_type') e where e ->> 'type' = 'b'),
  jsonb_build_object('enqueued', 5, 'claims', 5, 'claim_conflicts', 0, 'lease_expirations', 0, 'lease_releases', 0,
    'retries', 0, 'failed', 2, 'dead', 2, 'completed', 3, 'cancelled', 0, 'requeued', 0,
    'idempotent_duplicates', 0, 'fencing_rejections', 0), 'type b counters');
select is((select (e #>> '{latency,end_to_end,p50}')::float from s, jsonb_array_elements(doc -> 'by_queue_type') e where e ->> 'type' = 'a'),
  10::float, 'type a: 3 of 5 finished at 10 s, so p50 = 10 s');
select is((select (e #>> '{latency,run_time,p99}')::float from s, jsonb_array_elements(doc -> 'by_queue_type') e where e ->> 'type' = 'b'),
  3::float, 'type b: every attempt ran 3 s');

-- Gauges, now.
select is((select doc -> 'gauges' -> 'queues' -> 'metrics-scenario' from s), jsonb_build_object(
  'queued', 0, 'running', 0, 'succeeded', 8, 'cancelled', 0, 'dead', 2,
  'oldest_queued_age_seconds', 0, 'paused', false), 'jobs per state of the queue');
select is((select (doc #>> '{gauges,dlq_size}')::int from s), 2, 'DLQ size of the queue');
select is((select (doc #>> '{gauges,executors,online}')::int from s),
  (select count(*)::int from collab.executors e where e.online and e.last_seen_at >= collab.clock() - make_interval(secs => 2 * e.heartbeat_seconds)),
  'executors online: those seen within two heartbeat intervals');

-- The window: a filter by another queue sees nothing, and the window starts at its minute.
select is((select (api.metrics_summary('15m', 'other') #>> '{totals,counters,enqueued}')::int), 0, 'another queue: nothing');
select is((select (doc ->> 'since')::timestamptz from s), date_trunc('minute', collab.clock() - interval '15 minutes'),
  'the window starts at the beginning of the minute 15 minutes ago');

select * from finish();
ROLLBACK;
