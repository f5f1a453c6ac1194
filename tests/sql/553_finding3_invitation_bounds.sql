-- Invitations are bounded (finding 3, left open by its first fix): a workspace has at most
-- 1,000 pending invitations (PT429 quota_exceeded, quota invitations), so an admin cannot flood
-- other users' list_invitations; refreshing an existing one is always fine; the reaper
-- forgets invitations that expired over a week ago.
BEGIN;
select plan(5);
select tests.tenancy_fixture();

insert into collab.invitations (workspace_id, user_id, role, invited_by, created_at, expires_at)
select tests.id('workspace_a'), gen_random_uuid(), 'viewer', tests.id('admin'), now(), now() + interval '7 days'
  from generate_series(1, 999);

select tests.authenticate_as(tests.id('admin'));
select is((api.add_member('99999999-0000-0000-0000-000000000001', 'viewer')) ->> 'status', 'invited',
  'the 1,000th pending invitation is fine');
select is((tests.outcome($$select api.add_member('99999999-0000-0000-0000-000000000002', 'viewer')$$) - 'sqlstate') ->> 'quota',
  'invitations', 'the 1,001st is refused: PT429 quota_exceeded, quota invitations');
select throws_ok($$select api.add_member('99999999-0000-0000-0000-000000000002', 'viewer')$$, 'PT429', null,
  'with status 429');
select is((api.add_member('99999999-0000-0000-0000-000000000001', 'member')) ->> 'status', 'invited',
  'refreshing a pending invitation still works');

reset role;
update collab.invitations set created_at = now() - interval '20 days', expires_at = now() - interval '8 days'
 where workspace_id = tests.id('workspace_a') and role = 'viewer';
select collab.reap();
select is((select count(*)::integer from collab.invitations where workspace_id = tests.id('workspace_a')), 1,
  'the reaper deleted the invitations that expired over a week ago');

select * from finish();
ROLLBACK;
