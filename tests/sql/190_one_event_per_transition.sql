-- Every legal transition, made through the api, writes exactly one job_events row of the
-- right type, in the same transaction; calls that change nothing write none.
BEGIN;
select plan(16);

-- The types of the events a statement writes, in order.
create function pg_temp.events_written(statement text) returns text[] language plpgsql as $$
declare
  last_id bigint := (select coalesce(max(id), 0) from collab.job_events);
begin
  execute statement;
  return coalesce((select array_agg(e.type::text order by e.id) from collab.job_events e where e.id > last_id), '{}');
end
$$;

create temp table worker as select api.register_executor('worker-1', array['sm']) as id;
create temp table silent as select api.register_executor('worker-silent', array['sm']) as id;
create temp table job (name text, id bigint, lease_token uuid);

create function pg_temp.add(name text) returns void language sql as $$
  insert into job select name, (api.enqueue('sm', name)).id, null
$$;
create function pg_temp.take(name text, executor uuid default null, lease integer default 30) returns void language sql as $$
  update job set lease_token = c.lease_token
    from api.claim(coalesce(executor, (select id from worker)), array['sm'], 1, lease) c
   where job.name = take.name and c.id = job.id
$$;

select is(pg_temp.events_written($$select pg_temp.add('a')$$), array['enqueued'], '(none) -> queued: enqueued');
select is(pg_temp.events_written($$select pg_temp.take('a')$$), array['claimed'], 'queued -> running: claimed');
select is(pg_temp.events_written($$select api.cancel((select id from job where name = 'a'))$$), array['cancel_requested'],
  'running -> running: cancel_requested');
select is(pg_temp.events_written($$select api.heartbeat((select id from worker))$$), array['cancelled'],
  'running -> cancelled: cancelled (at the heartbeat)');

select pg_temp.add('b');
select is(pg_temp.events_written($$select api.cancel((select id from job where name = 'b'))$$), array['cancelled'],
  'queued -> cancelled: cancelled');

select pg_temp.add('c');
select pg_temp.take('c');
select is(pg_temp.events_written($$select api.complete(id, lease_token) from job where name = 'c'$$), array['succeeded'],
  'running -> succeeded: succeeded');
select is(pg_temp.events_written($$select api.complete(id, lease_token) from job where name = 'c'$$), '{}'::text[],
  'a repeated complete: no event');

select pg_temp.add('d');
select pg_temp.take('d');
select is(pg_temp.events_written($$select api.fail(id, lease_token, retry_in => interval '0') from job where name = 'd'$$),
  array['retry_scheduled'], 'running -> queued: retry_scheduled');
select pg_temp.take('d');
select is(pg_temp.events_written($$select api.fail(id, lease_token, retryable => false) from job where name = 'd'$$),
  array['dead'], 'running -> dead: dead');
select is(pg_temp.events_written($$select api.requeue(array[(select id from job where name = 'd')])$$),
  array['requeued'], 'dead -> queued: requeued');

select pg_temp.take('d');
select is(pg_temp.events_written($$select api.heartbeat((select id from worker))$$), '{}'::text[],
  'a heartbeat that only extends leases: no event');
set local collab.clock_offset = '1 minute';
select is(pg_temp.events_written($$select collab.expire_leases()$$), array['lease_expired'],
  'running -> queued: lease_expired');

select pg_temp.add('e');
select pg_temp.take('e', (select id from silent), 3600);
set local collab.clock_offset = '2 minutes';
select api.heartbeat((select id from worker));
select is(pg_temp.events_written($$select collab.reap()$$), array['executor_offline', 'lease_released'],
  'running -> queued: lease_released (its executor went silent, and its executor_offline event first)');

create temp table last_try as select * from api.enqueue('sm-last', 'g', max_attempts => 1);
select api.claim((select id from worker), array['sm-last'], 1, 30);
set local collab.clock_offset = '4 minutes';
select is(pg_temp.events_written($$select collab.expire_leases()$$), array['dead'],
  'running -> dead: dead (the last lease ran out)');

select is(pg_temp.events_written($$select api.enqueue_batch('[{"queue": "sm", "type": "x"}, {"queue": "sm", "type": "y"}, {"queue": "sm", "type": "z"}]')$$),
  array['enqueued', 'enqueued', 'enqueued'], 'a batch of three: three enqueued events');
select is((select count(*) from collab.job_events e join tests.all_jobs j on j.id = e.job_id
            where e.type = 'enqueued' and j.queue = 'sm'), (select count(*) from tests.all_jobs where queue = 'sm'),
  'every job has exactly one enqueued event');

select * from finish();
ROLLBACK;
