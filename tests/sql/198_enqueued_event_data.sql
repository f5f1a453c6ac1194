-- The `enqueued` event of every new job carries that job's priority and run_at, whether the
-- statement's jobs share them (the data is then built once for the statement) or not (built
-- per job); a `requeued` event carries the run_at only; a statement whose jobs do not all
-- start queued is refused whole (PT409), and one that inserts nothing writes no event.
BEGIN;
select plan(9);

-- The events of the given jobs whose data is not what the job says it must be.
create function pg_temp.wrong_data(ids bigint[]) returns bigint language sql as $$
  select count(*) from collab.job_events e
    join tests.all_jobs j on j.id = e.job_id
   where e.job_id = any(ids) and e.type = 'enqueued'
     and e.data is distinct from jsonb_build_object('priority', j.priority, 'run_at', j.run_at)
$$;
-- The enqueued events of the given jobs: how many, and how many distinct data values.
create function pg_temp.events_and_values(ids bigint[]) returns table (events bigint, data_values bigint)
language sql as $$
  select count(*), count(distinct data) from collab.job_events
   where job_id = any(ids) and type = 'enqueued'
$$;

-- A batch on the defaults: every job the same priority and run_at.
create temp table same as
  select id from api.enqueue_batch(
    (select jsonb_agg(jsonb_build_object('queue', 'ev-data', 'type', 't')) from generate_series(1, 50)));
select results_eq($$select * from pg_temp.events_and_values(array(select id from same))$$,
  $$values (50::bigint, 1::bigint)$$,
  'a batch of 50 on the defaults: 50 enqueued events, one data value (the shared priority and run_at)');
select is(pg_temp.wrong_data(array(select id from same)), 0::bigint,
  'each carries its job''s priority and run_at');

-- Priorities and run_ats that differ: each event its own job's.
create temp table mixed as
  select id from api.enqueue_batch(jsonb_build_array(
    jsonb_build_object('queue', 'ev-data', 'type', 't', 'priority', 3),
    jsonb_build_object('queue', 'ev-data', 'type', 't', 'priority', -2),
    jsonb_build_object('queue', 'ev-data', 'type', 't', 'delay', '5 minutes'),
    jsonb_build_object('queue', 'ev-data', 'type', 't', 'run_at', '2030-01-01T00:00:00Z', 'priority', 3)));
select is(pg_temp.wrong_data(array(select id from mixed)), 0::bigint,
  'a batch whose priorities and run_ats differ: each event carries its own job''s');
select results_eq($$select * from pg_temp.events_and_values(array(select id from mixed))$$,
  $$values (4::bigint, 4::bigint)$$, 'four jobs, four events, four values');

-- Same priority, run_ats that differ (and the other way round above): per job again.
create temp table same_priority as
  select id from api.enqueue_batch(jsonb_build_array(
    jsonb_build_object('queue', 'ev-data', 'type', 't'),
    jsonb_build_object('queue', 'ev-data', 'type', 't', 'delay', '1 hour')));
select is(pg_temp.wrong_data(array(select id from same_priority)), 0::bigint,
  'the same priority and two run_ats: each event its own run_at');

-- Two dead jobs requeued by one statement: requeued events, the run_at only.
create temp table worker as select api.register_executor('ev-data-worker', array['ev-dead']) as id;
create temp table dead as
  select (api.enqueue('ev-dead', 't', priority => i)).id from generate_series(1, 2) i;
select api.fail(c.id, c.lease_token, '{"e": "x"}', retryable => false)
  from api.claim((select id from worker), array['ev-dead'], 2) c;
select api.requeue(array(select id from dead));
select is((select count(*) from collab.job_events e join tests.all_jobs j on j.id = e.job_id
            where e.job_id in (select id from dead) and e.type = 'requeued'
              and e.data = jsonb_build_object('run_at', j.run_at)), 2::bigint,
  'a requeue of two jobs: two requeued events with the run_at only');

-- One illegal row refuses the whole statement; nothing of it is written.
select throws_ok($$insert into collab.jobs (workspace_id, queue, type, status, last_event, run_at, max_attempts,
                                           created_at, executor_id, lease_token, lease_expires_at, attempt)
                   values (collab.default_workspace_id(), 'ev-ill', 't', 'queued', 'enqueued', now(), 5, now(),
                           null, null, null, 0),
                          (collab.default_workspace_id(), 'ev-ill', 't', 'running', 'claimed', now(), 5, now(),
                           (select id from worker), gen_random_uuid(), now(), 1)$$,
  'PT409', null, 'a statement with one job inserted running is refused (PT409 illegal_transition)');
select is((select count(*) from collab.job_events where queue = 'ev-ill'), 0::bigint,
  'and neither of its jobs has an event');

-- A statement that inserts nothing: no error, no event.
create temp table before as select count(*) as n from collab.job_events;
insert into collab.jobs (workspace_id, queue, type, run_at, max_attempts, created_at)
select collab.default_workspace_id(), 'ev-none', 't', now(), 5, now() where false;
select is((select count(*) from collab.job_events), (select n from before),
  'an INSERT of no rows writes no event');

select * from finish();
ROLLBACK;
