-- Finding 7 of the security review (low): api.events_since checked a cursor's event, and
-- looked up the oldest event, across every workspace: a viewer learnt whether any event id
-- existed and another tenant's oldest cursor (xid:id). Both lookups are now scoped to the
-- caller's workspace.
BEGIN;
select plan(4);

delete from collab.job_events;
insert into collab.workspaces (id, name)
values (tests.id('workspace_a'), 'tenant-a'), (tests.id('workspace_b'), 'tenant-b');
insert into collab.members (workspace_id, user_id, role)
values (tests.id('workspace_a'), tests.id('viewer'), 'viewer');
-- B's events come first in the stream, then A's.
select set_config('request.jwt.claims', jsonb_build_object('workspace_id', tests.id('workspace_b'))::text, true);
select api.enqueue('q', 'b-job');
select set_config('request.jwt.claims', jsonb_build_object('workspace_id', tests.id('workspace_a'))::text, true);
select api.enqueue('q', 'a-job');
select set_config('request.jwt.claims', '', true);
create temp table firsts as
  select e.workspace_id, e.xid::text || ':' || e.id as cursor, e.id from collab.job_events e;
grant select on firsts to public;

select tests.authenticate_as(tests.id('viewer'));
select is((tests.outcome($$select * from api.events_since('0:999999999')$$) ->> 'reason'), 'cursor_expired',
  'a cursor of no event of A, older than A''s first: cursor_expired');
select is((tests.outcome($$select * from api.events_since('0:999999999')$$) ->> 'oldest_cursor'),
          (select cursor from firsts where workspace_id = tests.id('workspace_a')),
  'its oldest_cursor is A''s first event, not B''s (older) one');
select is((tests.outcome(format('select * from api.events_since(%L)',
                                (select cursor from firsts where workspace_id = tests.id('workspace_b')))) ->> 'reason'),
          'cursor_expired',
  'B''s real event id is no valid cursor for A: nothing tells that it exists');
select lives_ok(format('select * from api.events_since(%L)',
                       (select cursor from firsts where workspace_id = tests.id('workspace_a'))),
  'A''s own cursor is served as before');

select * from finish();
ROLLBACK;
