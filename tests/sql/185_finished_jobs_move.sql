-- Finished jobs leave the hot table: every way a job finishes moves it, in the same
-- transaction, from collab.jobs into collab.job_history with one event, and requeue moves a
-- dead job back under the same id; the readers (get_job, list_jobs, list_queues, the DLQ
-- metrics) find it in either place.
BEGIN;
select plan(20);

-- Where a job lives now: 'jobs', 'history', 'both' or 'nowhere'.
create function pg_temp.home(job_id bigint) returns text language sql as $$
  select case when j and h then 'both' when j then 'jobs' when h then 'history' else 'nowhere' end
    from (select exists (select 1 from collab.jobs where id = job_id) as j,
                 exists (select 1 from collab.job_history where id = job_id) as h) x
$$;
-- The types of a job's events, in order.
create function pg_temp.events(job_id bigint) returns text language sql as $$
  select string_agg(type::text, ',' order by id) from collab.job_events e where e.job_id = events.job_id
$$;

create temp table worker as select api.register_executor('mover', array['mv']) as id;
create temp table job as
  select 'done' as name, (api.enqueue('mv', 't', priority => 9)).id
  union all select 'batch', (api.enqueue('mv', 't', priority => 8)).id
  union all select 'dead', (api.enqueue('mv', 't', priority => 7)).id
  union all select 'failed_cancel', (api.enqueue('mv', 't', priority => 6)).id
  union all select 'beat_cancel', (api.enqueue('mv', 't', priority => 5)).id
  union all select 'expired', (api.enqueue('mv', 't', priority => 4, max_attempts => 1)).id
  union all select 'queued_cancel', (api.enqueue('mv', 't', run_at => now() + interval '1 hour')).id;
create temp table claimed as select * from api.claim((select id from worker), array['mv'], 6, 30);
create function pg_temp.token(name text) returns uuid language sql as $$
  select c.lease_token from claimed c join job using (id) where job.name = token.name
$$;
create function pg_temp.id_of(name text) returns bigint language sql as $$
  select id from job where job.name = id_of.name
$$;

select api.complete(pg_temp.id_of('done'), pg_temp.token('done'), '{"ok": 1}');
select is(pg_temp.home(pg_temp.id_of('done')), 'history', 'complete moves the job into the history');
select is((select status::text || ' ' || (result ->> 'ok') from collab.job_history where id = pg_temp.id_of('done')),
  'succeeded 1', 'succeeded, with its result');

select api.complete_batch(jsonb_build_array(jsonb_build_object(
  'job_id', pg_temp.id_of('batch'), 'lease_token', pg_temp.token('batch'))));
select is(pg_temp.home(pg_temp.id_of('batch')), 'history', 'complete_batch moves its jobs');

select api.fail(pg_temp.id_of('dead'), pg_temp.token('dead'), '{"e": 1}', retryable => false);
select is(pg_temp.home(pg_temp.id_of('dead')), 'history', 'a fail that kills the job moves it');

select api.cancel(pg_temp.id_of('failed_cancel'));
select is(pg_temp.home(pg_temp.id_of('failed_cancel')), 'jobs', 'a cancel of a running job only flags it');
select api.fail(pg_temp.id_of('failed_cancel'), pg_temp.token('failed_cancel'), '{"e": 2}');
select is((select status::text from collab.job_history where id = pg_temp.id_of('failed_cancel')), 'cancelled',
  'its failed attempt moves it, cancelled');

select api.cancel(pg_temp.id_of('beat_cancel'));
select api.heartbeat((select id from worker));
select is((select status::text from collab.job_history where id = pg_temp.id_of('beat_cancel')), 'cancelled',
  'a heartbeat that ends a flagged job moves it, cancelled');

set local collab.clock_offset = '1 minute';
select collab.reap();
select is((select status::text || ' ' || (last_error ->> 'reason') from collab.job_history
            where id = pg_temp.id_of('expired')), 'dead lease_expired',
  'an expired lease with no attempts left moves the job, dead');
reset collab.clock_offset;

select api.cancel(pg_temp.id_of('queued_cancel'));
select is(pg_temp.home(pg_temp.id_of('queued_cancel')), 'history', 'a cancel of a queued job moves it');

select is((select string_agg(name || ':' || pg_temp.events(id), ' ' order by name) from job),
  'batch:enqueued,claimed,succeeded beat_cancel:enqueued,claimed,cancel_requested,cancelled '
  || 'dead:enqueued,claimed,dead done:enqueued,claimed,succeeded '
  || 'expired:enqueued,claimed,dead failed_cancel:enqueued,claimed,cancel_requested,cancelled '
  || 'queued_cancel:enqueued,cancelled',
  'every move wrote exactly the event of its transition');
select is((select data from collab.job_events where job_id = pg_temp.id_of('dead') and type = 'dead'),
  jsonb_build_object('error', (select last_error from collab.job_history where id = pg_temp.id_of('dead'))),
  'the dead event carries the error, as an update''s did');
select is((select count(*)::integer from collab.jobs where queue = 'mv'), 0, 'the hot table holds none of them');
select is((select count(*)::integer from collab.check_invariants()), 0, 'and every invariant holds');

-- Readers find finished jobs.
select is((api.get_job(pg_temp.id_of('done')) ->> 'status'), 'succeeded', 'get_job reads the history');
select is((select count(*)::integer from api.list_jobs(queue => 'mv')), 7, 'list_jobs lists them all');
select is((select dead from api.list_queues() where (queue).name = 'mv'), 2::bigint,
  'list_queues counts the dead in the history');
select is((api.metrics_summary() -> 'gauges' ->> 'dlq_size')::integer, 2, 'so does the DLQ size of metrics_summary');

-- Requeue moves a dead job back, same id, with its requeued event.
select api.requeue(array[pg_temp.id_of('dead')]);
select is(pg_temp.home(pg_temp.id_of('dead')) || ' ' || (select status::text from collab.jobs where id = pg_temp.id_of('dead')),
  'jobs queued', 'requeue moves the dead job back into collab.jobs, queued');
select is(pg_temp.events(pg_temp.id_of('dead')), 'enqueued,claimed,dead,requeued', 'with one requeued event');

-- purge_dead deletes from the history.
select is(api.purge_dead('mv'), 1::bigint, 'purge_dead removes the dead job left in the history');

select * from finish();
ROLLBACK;
