-- api.list_executors reports presence on schedule: online while heard from within one
-- heartbeat interval, stale when silent longer, offline after three intervals (or when
-- marked offline); the jobs of an offline executor are claimable again long before their
-- lease would have ended.
BEGIN;
select plan(11);

create temp table ex as select api.register_executor('lister', array['lx'], 10) as id;
create temp table other as select api.register_executor('other', array['lx']) as id;
create temp table job as select (api.enqueue('lx', 't')).id;
select api.claim((select id from ex), array['lx'], 1, 3600);  -- a lease of one hour

select results_eq($$select name, status, heartbeat_seconds, running_jobs from api.list_executors()$$,
  $$values ('lister', 'online', 10, 1), ('other', 'online', 5, 0)$$,
  'both just registered: online; lister holds one job');

set local collab.clock_offset = '9 seconds';
select api.heartbeat((select id from other));
select is((select status from api.list_executors() where name = 'lister'), 'online', 'silent 9 s of a 10 s interval: online');

set local collab.clock_offset = '11 seconds';
select is((select status from api.list_executors() where name = 'lister'), 'stale', 'silent 11 s: stale');
select ok((select silent_seconds from api.list_executors() where name = 'lister') between 10.9 and 11.1,
  'silent_seconds says how long');
select is((select status from api.list_executors() where name = 'other'), 'online', 'the other heartbeat 2 s ago: online');

set local collab.clock_offset = '29 seconds';
select is((select status from api.list_executors() where name = 'lister'), 'stale', 'silent 29 s (< 3 x 10 s): still stale');

set local collab.clock_offset = '31 seconds';
select is((select status from api.list_executors() where name = 'lister'), 'offline',
  'silent 31 s: offline even before reap runs');
select is((select count(*)::integer from api.claim((select id from other), array['lx'], 1, 30)), 0,
  'its job is not claimable yet: the lease (1 h) still holds it');

select collab.reap();
select is((select status from api.list_executors() where name = 'lister'), 'offline', 'marked offline by reap');

set local collab.clock_offset = '10 minutes';  -- past any backoff, far before the 1 h lease
select results_eq($$select id, attempt from api.claim((select id from other), array['lx'], 1, 30)$$,
  $$select (select id from job), 2$$,
  'the released job is claimable again 10 minutes in, although its lease ran for an hour');

select api.heartbeat((select id from ex));
select is((select status from api.list_executors() where name = 'lister'), 'online', 'a heartbeat brings it back online');

select * from finish();
ROLLBACK;
