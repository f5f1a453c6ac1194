-- Presence changes are events in the stream (job_id null, executor_id set), written in the
-- same transaction as the change: a new or returning executor is `executor_online`, one
-- marked offline by collab.reap is `executor_offline` (and its jobs are released at once,
-- `lease_released`). Staying present writes nothing.
BEGIN;
select plan(12);

create function pg_temp.presence(executor uuid) returns text[] language sql as $$
  select coalesce(array_agg(e.type::text order by e.id), '{}') from collab.job_events e
   where e.executor_id = executor and e.job_id is null
$$;

create temp table ex as select api.register_executor('presence-1', array['pres']) as id;
select is(pg_temp.presence((select id from ex)), array['executor_online'],
  'a new executor: executor_online');
select results_eq(
  $$select job_id, queue, job_type, attempt, data ->> 'name' from collab.job_events
     where executor_id = (select id from ex)$$,
  $$values (null::bigint, null::text, null::text, null::integer, 'presence-1')$$,
  'a presence event has no job; its data names the executor');

select api.register_executor('presence-1', array['pres']);
select api.heartbeat((select id from ex));
select is(pg_temp.presence((select id from ex)), array['executor_online'],
  're-registering or heartbeating while online writes no presence event');

create temp table job as select (api.enqueue('pres', 't')).id;
select api.claim((select id from ex), array['pres'], 1, 3600);

set local collab.clock_offset = '14 seconds';
select is((collab.reap() ->> 'offline')::integer, 0, 'silent for 14 s (< 3 x 5 s): still present');
select is(pg_temp.presence((select id from ex)), array['executor_online'], 'no event yet');

set local collab.clock_offset = '16 seconds';
select is(collab.reap(), '{"expired": 0, "offline": 1, "released": 1}'::jsonb,
  'silent for 16 s: reap marks it offline and releases its job');
select is(pg_temp.presence((select id from ex)), array['executor_online', 'executor_offline'],
  'offline: executor_offline');
select is((select count(*) from collab.job_events where job_id = (select id from job) and type = 'lease_released'),
  1::bigint, 'and its job got lease_released');
select is((collab.reap() ->> 'offline')::integer, 0, 'a second reap: nothing new');
select is(pg_temp.presence((select id from ex)), array['executor_online', 'executor_offline'],
  'and no second executor_offline');

select api.heartbeat((select id from ex));
select is(pg_temp.presence((select id from ex)), array['executor_online', 'executor_offline', 'executor_online'],
  'a heartbeat after offline: executor_online again');

set local collab.clock_offset = '40 seconds';
select collab.reap();
select api.register_executor('presence-1', array['pres']);
select is(pg_temp.presence((select id from ex)),
  array['executor_online', 'executor_offline', 'executor_online', 'executor_offline', 'executor_online'],
  're-registering after offline: executor_online again');

select * from finish();
ROLLBACK;
