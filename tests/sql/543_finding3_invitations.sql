-- Finding 3 of the security review: an admin of any workspace could make any user a member of
-- it, which broke every claim-less call of a victim (PT400 invalid_workspace) and made a user
-- without a workspace act in the attacker's. Now add_member by a user only invites a
-- non-member; the invitee lists, accepts or declines; members leave or are removed; and a
-- workspace with an owner keeps one (info item of section 12), with an admin no longer
-- changing another admin's role.
BEGIN;
select plan(49);
select tests.tenancy_fixture();

-- The review's reproduction: the admin of workspace B "adds" the viewer of workspace A.
select tests.authenticate_as(tests.id('outsider'));
select is(api.add_member(tests.id('viewer'), 'viewer') - 'expires_at',
          jsonb_build_object('workspace_id', tests.id('workspace_b'), 'user_id', tests.id('viewer'),
                             'role', 'viewer', 'status', 'invited'),
          'an admin naming a user of another workspace only invites them (status invited)');
select tests.authenticate_as(tests.id('viewer'));
select is((select count(*)::integer from api.list_jobs()), 3,
          'the victim''s claim-less calls still work: they act in their only workspace, A');
select is(tests.current_workspace(), tests.id('workspace_a'), 'and no invalid_workspace for belonging to two');
select tests.authenticate_as(tests.id('viewer'), jsonb_build_object('workspace_id', tests.id('workspace_b')));
select throws_ok($$select * from api.list_jobs()$$, 'PT403', null,
                 'naming workspace B does not get the invitee in: PT403');
select is(tests.outcome($$select * from api.list_jobs()$$) ->> 'reason', 'workspace_forbidden',
          'reason workspace_forbidden: they are not a member of B');

-- A user with no workspace, invited, does not silently act in the inviter's workspace.
select tests.authenticate_as(tests.id('outsider'));
select is(api.add_member('77777777-7777-7777-7777-777777777777', 'member') ->> 'status', 'invited',
          'the outsider invites a user who has no workspace');
select tests.authenticate_as('77777777-7777-7777-7777-777777777777');
select is(tests.outcome($$select api.enqueue('q', 'captured')$$) ->> 'reason', 'workspace_forbidden',
          'who still belongs to no workspace: their enqueue is refused, not sent to B');
select results_eq($$select workspace_id, name, role from api.list_invitations()$$,
                  $$values (tests.id('workspace_b'), 'tenant-b'::text, 'member'::text)$$,
                  'list_invitations works for a user with zero workspaces: B, its name, the role');
select ok((select expires_at > invited_at + interval '6 days' from api.list_invitations()),
          'an invitation is valid for 7 days');

-- Declining and accepting.
select tests.authenticate_as(tests.id('viewer'));
select is(api.decline_invitation(tests.id('workspace_b')) ->> 'status', 'declined', 'the victim declines');
select is((select count(*)::integer from api.list_invitations()), 0, 'and has no pending invitation left');
select throws_ok(format('select api.accept_invitation(%L)', tests.id('workspace_b')), 'PT404', null,
                 'a declined invitation cannot be accepted: PT404');
select is(tests.outcome(format('select api.decline_invitation(%L)', tests.id('workspace_b'))) ->> 'reason',
          'invitation_not_found', 'nor declined twice: invitation_not_found');
select tests.authenticate_as('77777777-7777-7777-7777-777777777777');
select is(api.accept_invitation(tests.id('workspace_b')) - 'user_id',
          jsonb_build_object('workspace_id', tests.id('workspace_b'), 'name', 'tenant-b',
                             'role', 'member', 'status', 'member'),
          'the invitee accepts and becomes a member with the invited role');
select is((select count(*)::integer from api.list_jobs()), 3, 'and now acts in B, their only workspace, by choice');
select is(tests.outcome(format('select api.accept_invitation(%L)', tests.id('workspace_b'))) ->> 'reason',
          'invitation_not_found', 'an accepted invitation is gone');
select tests.as_request('authenticated', '{}');
select throws_ok(format('select api.accept_invitation(%L)', tests.id('workspace_b')), 'PT403', null,
                 'accepting needs a signed-in user (no sub): PT403');
select throws_ok($$select * from api.list_invitations()$$, 'PT403', null, 'and so does listing them');

-- Expiry: collab.clock() decides.
select tests.authenticate_as(tests.id('outsider'));
select is(api.add_member('88888888-8888-8888-8888-888888888888', 'viewer') ->> 'status', 'invited', 'another invitation');
select set_config('collab.clock_offset', '8 days', true);
select tests.authenticate_as('88888888-8888-8888-8888-888888888888');
select is((select count(*)::integer from api.list_invitations()), 0, 'after 7 days it is no longer listed');
select throws_ok(format('select api.accept_invitation(%L)', tests.id('workspace_b')), 'PT410', null,
                 'nor accepted: PT410');
select is(tests.outcome(format('select api.accept_invitation(%L)', tests.id('workspace_b'))) - 'expires_at',
          '{"sqlstate": "PT410", "reason": "invitation_expired", "field": "workspace_id"}'::jsonb,
          'reason invitation_expired');
select tests.authenticate_as(tests.id('outsider'));
select is(api.add_member('88888888-8888-8888-8888-888888888888', 'member') ->> 'role', 'member',
          'inviting again refreshes the invitation (and its role)');
select tests.authenticate_as('88888888-8888-8888-8888-888888888888');
select is(api.accept_invitation(tests.id('workspace_b')) ->> 'role', 'member', 'which can then be accepted');
select set_config('collab.clock_offset', '', true);

-- Service callers still add directly.
select tests.as_request('service_role', jsonb_build_object('workspace_id', tests.id('workspace_a')));
select is(api.add_member('99999999-9999-9999-9999-999999999999', 'viewer') ->> 'status', 'member',
          'the service role adds a member directly (status member)');

-- Role changes of members: direct, within the rank rules; an admin's role is an owner's call.
select tests.authenticate_as(tests.id('admin'));
select is(api.add_member(tests.id('member'), 'viewer') ->> 'status', 'member',
          'an admin changes an existing member''s role directly');
select tests.authenticate_as(tests.id('owner'));
select is(api.add_member(tests.id('member'), 'admin') ->> 'role', 'admin', 'an owner makes them an admin');
select tests.authenticate_as(tests.id('admin'));
select throws_ok(format('select api.add_member(%L, %L)', tests.id('member'), 'viewer'), 'PT403', null,
                 'an admin cannot demote another admin: PT403');
select is(tests.outcome(format('select api.add_member(%L, %L)', tests.id('member'), 'viewer')) -> 'required_role',
          '"owner"'::jsonb, 'forbidden, naming owner as the role required');
select tests.authenticate_as(tests.id('owner'));
select is(api.add_member(tests.id('member'), 'member') ->> 'role', 'member', 'an owner may change an admin''s role');

-- A workspace with an owner keeps one.
select throws_ok(format('select api.add_member(%L, %L)', tests.id('owner'), 'admin'), 'PT409', null,
                 'the last owner cannot demote themselves: PT409');
select is(tests.outcome(format('select api.add_member(%L, %L)', tests.id('owner'), 'admin')) ->> 'reason',
          'last_owner', 'reason last_owner');
select is(tests.outcome($$select api.leave_workspace()$$) ->> 'reason', 'last_owner',
          'nor leave: last_owner');
select tests.as_request('service_role', jsonb_build_object('workspace_id', tests.id('workspace_a')));
select throws_ok(format('select api.remove_member(%L)', tests.id('owner')), 'PT409', null,
                 'nor be removed, even by the service role: PT409');
select tests.authenticate_as(tests.id('owner'));
select is(api.add_member(tests.id('admin'), 'owner') ->> 'role', 'owner', 'with a second owner');
select is(api.leave_workspace() - 'user_id',
          jsonb_build_object('workspace_id', tests.id('workspace_a'), 'role', 'owner', 'status', 'left'),
          'the first owner may leave');
select is(tests.outcome('select tests.current_workspace()') ->> 'reason', 'workspace_forbidden',
          'and is then no longer in the workspace');

-- remove_member: rank rules, invitations cancelled, unknown users.
select tests.authenticate_as(tests.id('member'));
select throws_ok(format('select api.remove_member(%L)', tests.id('viewer')), 'PT403', null,
                 'a member cannot remove anyone: PT403');
select tests.authenticate_as(tests.id('admin'));  -- now the only owner of A
select is(api.add_member('88888888-8888-8888-8888-888888888888', 'viewer') ->> 'status', 'invited',
          'the owner invites a user');
select is(api.remove_member('88888888-8888-8888-8888-888888888888') ->> 'status', 'invitation_cancelled',
          'remove_member cancels a pending invitation');
select is(api.remove_member(tests.id('viewer')) ->> 'status', 'removed', 'and removes a member');
select is(tests.outcome(format('select api.remove_member(%L)', tests.id('viewer'))),
          '{"sqlstate": "PT404", "reason": "member_not_found", "field": "user_id"}'::jsonb,
          'someone neither member nor invited: PT404 member_not_found');
select tests.authenticate_as(tests.id('viewer'));
select is(tests.outcome('select * from api.list_jobs()') ->> 'reason', 'workspace_forbidden',
          'the removed viewer no longer acts in A');

-- An invitation lapses with its inviter's right to send it.
select tests.authenticate_as(tests.id('admin'));
select api.add_member(tests.id('member'), 'admin');
select tests.authenticate_as(tests.id('member'));
select api.add_member('cccccccc-0000-0000-0000-00000000000c', 'admin');
select api.add_member('dddddddd-0000-0000-0000-00000000000d', 'viewer');
select tests.authenticate_as(tests.id('admin'));
select api.add_member(tests.id('member'), 'member');
select tests.authenticate_as('cccccccc-0000-0000-0000-00000000000c');
select is((select count(*)::integer from api.list_invitations()), 0,
          'demoting an admin cancels the invitations they sent to a role above their new one');
select tests.authenticate_as('dddddddd-0000-0000-0000-00000000000d');
select is((select count(*)::integer from api.list_invitations()), 1, 'but not the others');
select tests.authenticate_as(tests.id('admin'));
select is(api.remove_member(tests.id('member')) ->> 'role', 'member', 'the owner removes the inviter');
select tests.authenticate_as('dddddddd-0000-0000-0000-00000000000d');
select is((select count(*)::integer from api.list_invitations()), 0, 'and the invitations they sent lapse');

-- leave_workspace: a member leaves; the service role is a member of nothing.
select tests.authenticate_as(tests.id('executor'));
select is(api.leave_workspace() ->> 'status', 'left', 'a member leaves their workspace');
select tests.as_request('service_role', jsonb_build_object('workspace_id', tests.id('workspace_a')));
select is(tests.outcome('select api.leave_workspace()') ->> 'sqlstate', 'PT403',
          'the service role cannot leave: PT403');

select * from finish();
ROLLBACK;
