-- Who acts in which workspace: collab.current_workspace() trusts a workspace_id claim only
-- from service callers; a user acts in a workspace they are a member of (their only one when
-- the token names none); superuser sessions without a JWT keep the default workspace.
BEGIN;
select plan(18);
select tests.tenancy_fixture();

-- service callers
select is(tests.current_workspace(), '00000000-0000-0000-0000-000000000001'::uuid,
          'a superuser session without a JWT acts in the default workspace');
select set_config('request.jwt.claims', json_build_object('workspace_id', tests.id('workspace_b'))::text, true);
select is(tests.current_workspace(), tests.id('workspace_b'),
          'a superuser session may name a workspace with a bare workspace_id claim');
select tests.as_request('service_role', json_build_object('workspace_id', tests.id('workspace_a'))::jsonb);
select is(tests.current_workspace(), tests.id('workspace_a'), 'service_role names any workspace');
select tests.authenticate_as_service_role();
select is(tests.current_workspace(), '00000000-0000-0000-0000-000000000001'::uuid,
          'service_role without a claim acts in the default workspace');
select tests.as_request('service_role', '{"workspace_id": "99999999-9999-9999-9999-999999999999"}');
select is(tests.outcome('select tests.current_workspace()') ->> 'reason', 'workspace_forbidden',
          'service_role naming a workspace that does not exist: workspace_forbidden');

-- signed-in users
select tests.authenticate_as(tests.id('viewer'));
select is(tests.current_workspace(), tests.id('workspace_a'),
          'a user with one membership and no claim acts in that workspace');
select tests.authenticate_as(tests.id('viewer'), json_build_object('workspace_id', tests.id('workspace_a'))::jsonb);
select is(tests.current_workspace(), tests.id('workspace_a'), 'a user naming their workspace acts there');
select tests.authenticate_as(tests.id('viewer'), json_build_object('workspace_id', tests.id('workspace_b'))::jsonb);
select is(tests.outcome('select tests.current_workspace()'),
          '{"sqlstate": "PT403", "reason": "workspace_forbidden", "field": "workspace_id"}'::jsonb,
          'a user naming a workspace they do not belong to: PT403 workspace_forbidden');
select tests.authenticate_as(tests.id('viewer'), '{"workspace_id": "not-a-uuid"}');
select is(tests.outcome('select tests.current_workspace()'),
          '{"sqlstate": "PT400", "reason": "invalid_workspace", "field": "workspace_id"}'::jsonb,
          'a malformed workspace_id claim: PT400 invalid_workspace');
select tests.authenticate_as('77777777-7777-7777-7777-777777777777');
select is(tests.outcome('select tests.current_workspace()') - 'sqlstate',
          '{"reason": "workspace_forbidden", "field": "workspace_id"}'::jsonb,
          'a user who belongs to no workspace: workspace_forbidden');
select tests.authenticate_as('77777777-7777-7777-7777-777777777777', '{"role": "service_role"}');
select is(tests.outcome('select tests.current_workspace()') ->> 'reason', 'workspace_forbidden',
          'a role claim of service_role does not lift a session switched to authenticated');

-- several memberships need a claim
reset role;
insert into collab.members (workspace_id, user_id, role) values (tests.id('workspace_b'), tests.id('viewer'), 'viewer');
select tests.authenticate_as(tests.id('viewer'));
select is(tests.outcome('select tests.current_workspace()'),
          '{"sqlstate": "PT400", "reason": "invalid_workspace", "field": "workspace_id"}'::jsonb,
          'a user in several workspaces without a claim: PT400 naming workspace_id');
select tests.authenticate_as(tests.id('viewer'), json_build_object('workspace_id', tests.id('workspace_b'))::jsonb);
select is(tests.current_workspace(), tests.id('workspace_b'), 'and with the claim acts in the one named');

-- anon and users without sub
select tests.as_request('authenticated', '{}');
select is(tests.outcome('select tests.current_workspace()') - 'sqlstate' - 'field' - 'role',
          '{"reason": "forbidden", "required_role": "viewer"}'::jsonb,
          'authenticated without a sub claim: PT403 forbidden');

-- roles
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select tests.require_role('admin')$$),
          '{"sqlstate": "PT403", "reason": "forbidden", "field": null, "required_role": "admin", "role": "member"}'::jsonb,
          'require_role names the role needed and the role held');
select is(tests.require_role('member'), tests.id('workspace_a'), 'require_role returns the workspace when the role suffices');

-- a plain login role without a JWT is nobody (only superusers and owners are trusted)
reset role;
select set_config('request.jwt.claims', '', true);
create role tenancy_plain_login login;
grant usage on schema tests to tenancy_plain_login;
select tests.share_pgtap_state();
grant all on all tables in schema pg_temp to tenancy_plain_login;
set local session authorization tenancy_plain_login;
select is(tests.outcome('select tests.current_workspace()') ->> 'reason', 'forbidden',
          'a non-superuser login without a JWT is refused');
reset session authorization;
select is(tests.current_workspace(), '00000000-0000-0000-0000-000000000001'::uuid,
          'while the superuser session keeps the default workspace');

select * from finish();
ROLLBACK;
