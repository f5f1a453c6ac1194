-- Workspaces are created by signed-in users, who become their owners; admins invite members
-- (who join by accepting) but never above their own role; names are unique.
BEGIN;
select plan(10);
select tests.tenancy_fixture();

select tests.authenticate_as('77777777-7777-7777-7777-777777777777');
create temp table made as select api.create_workspace('fresh') as w;
select is((select w ->> 'role' from made), 'owner', 'the creator becomes the owner');
select is((select (api.enqueue('q', 't')).status::text), 'queued',
          'and, as their only workspace, acts in it without naming it');
select is(tests.outcome($$select api.create_workspace('fresh')$$),
          '{"sqlstate": "PT409", "reason": "workspace_exists", "field": "name"}'::jsonb,
          'a taken name: PT409 workspace_exists');
select is(tests.outcome($$select api.create_workspace('')$$) ->> 'reason', 'invalid_input', 'an empty name: invalid_input');

select tests.authenticate_as(tests.id('admin'));
select is((api.add_member('88888888-8888-8888-8888-888888888888', 'member')) ->> 'status', 'invited',
          'an admin invites a new member');
select is(tests.outcome($$select api.add_member('88888888-8888-8888-8888-888888888888', 'owner')$$) ->> 'reason',
          'forbidden', 'an admin cannot make an owner');
select is(tests.outcome(format('select api.add_member(%L, %L)', tests.id('owner'), 'viewer')) ->> 'reason',
          'forbidden', 'nor demote an owner');
select is(tests.outcome($$select api.add_member('88888888-8888-8888-8888-888888888888', 'boss')$$),
          '{"sqlstate": "PT400", "reason": "invalid_input", "field": "role"}'::jsonb, 'an unknown role: invalid_input');

select tests.authenticate_as('88888888-8888-8888-8888-888888888888');
select is((api.accept_invitation(tests.id('workspace_a'))) ->> 'role', 'member',
          'who accepts and becomes a member');
select is((select count(*)::integer from api.list_jobs()), 3, 'the new member reads the three jobs of workspace A');

select * from finish();
ROLLBACK;
