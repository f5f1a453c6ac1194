-- collab.reap() expires overdue leases everywhere and marks executors silent for three
-- heartbeat intervals offline, releasing their jobs at once (`lease_released`).
BEGIN;
select plan(9);

create temp table alive as select api.register_executor('alive', array['reap']) as id;
create temp table silent as select api.register_executor('silent', array['reap']) as id;
create temp table job as
  select 'short' as name, (api.enqueue('reap', 'a')).id
  union all select 'long', (api.enqueue('reap', 'b')).id;
select api.claim((select id from alive), array['reap'], 1, 30);   -- takes 'short' (the older id)
select api.claim((select id from silent), array['reap'], 1, 3600); -- takes 'long'

set local collab.clock_offset = '35 seconds';
select api.register_executor('alive', array['reap']);               -- alive shows up again
set local collab.clock_offset = '40 seconds';

select is(collab.reap(), '{"expired": 1, "offline": 1, "released": 1}'::jsonb,
  'reap expires one lease, marks one executor offline and releases its job');
select results_eq($$select name, online from collab.executors where name in ('alive', 'silent') order by name$$,
  $$values ('alive', true), ('silent', false)$$,
  'the executor silent for more than 3 x 5 s is offline; the one seen 5 s ago is not');
select results_eq($$select j.status::text, j.last_error ->> 'reason' from tests.all_jobs j where j.id = (select id from job where name = 'short')$$,
  $$values ('queued', 'lease_expired')$$, 'the job whose lease ran out is queued again (lease_expired)');
select results_eq($$select j.status::text, j.last_error ->> 'reason' from tests.all_jobs j where j.id = (select id from job where name = 'long')$$,
  $$values ('queued', 'lease_released')$$, 'the silent executor''s job is released before its lease ends');
select results_eq(
  $$select e.type::text, e.executor_id from collab.job_events e where e.job_id = (select id from job where name = 'long') and e.type = 'lease_released'$$,
  $$select 'lease_released', (select id from silent)$$, 'one lease_released event names the executor');
select is((select count(*) from collab.job_events where job_id = (select id from job where name = 'short') and type = 'lease_expired'), 1::bigint,
  'one lease_expired event for the other');
select is(collab.reap(), '{"expired": 0, "offline": 0, "released": 0}'::jsonb, 'a second reap finds nothing to do');
select is((select online from collab.executors where id = (select id from silent)), false, 'the silent executor stays offline');
select is((api.heartbeat((select id from silent))).executor_id, (select id from silent), 'until it heartbeats');

select * from finish();
ROLLBACK;
