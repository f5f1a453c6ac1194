-- api.events_head: the cursor to follow the stream "from now". It is "<snapshot xmin>:0",
-- names no event (so retention never expires it), is accepted by api.events_since, and is
-- given to members of a workspace only. (Which events it skips and serves needs concurrent
-- transactions: tests/py/integration/test_events_head.py.)
BEGIN;
select plan(6);

insert into collab.workspaces (id, name) values (tests.id('workspace_a'), 'head-a');
insert into collab.members (workspace_id, user_id, role)
values (tests.id('workspace_a'), tests.id('viewer'), 'viewer');

select tests.authenticate_as(tests.id('viewer'));
select matches(api.events_head(), '^[0-9]+:0$', 'a viewer gets a cursor of the form <xid>:0');
select is(split_part(api.events_head(), ':', 1)::xid8, pg_snapshot_xmin(pg_current_snapshot()),
  'its xid is the xmin of the current snapshot');
select is(tests.outcome(format('select count(*) from api.events_since(%L)', api.events_head())) ->> 'sqlstate',
  'ok', 'api.events_since accepts it');

reset role;
delete from collab.job_events;  -- as if retention had purged everything
select tests.authenticate_as(tests.id('viewer'));
select is(tests.outcome(format('select count(*) from api.events_since(%L)', api.events_head())) ->> 'sqlstate',
  'ok', 'it names no event, so it never expires');

select tests.clear_authentication();
select is(tests.outcome('select api.events_head()') ->> 'sqlstate', '42501', 'anon may not call it');
select tests.authenticate_as(tests.id('stranger'));
select is(tests.outcome('select api.events_head()') ->> 'sqlstate', 'PT403',
  'a user of no workspace is refused');

select * from finish();
ROLLBACK;
