-- Soft-deleted secrets (issue 15): restorable within the recovery window; past it, the reaper
-- (collab.reap) destroys them, every version, with one audit row each.
BEGIN;
do $key$
begin
  if pg_catalog.pg_read_binary_file('collab_vault.key', 0, 4096, true) is null then
    execute format('copy (select encode(extensions.gen_random_bytes(32), ''hex'')) to %L',
                   current_setting('data_directory') || '/collab_vault.key');
  end if;
end
$key$;
select tests.tenancy_fixture();
select plan(9);

select tests.as_request('service_role', jsonb_build_object('workspace_id', tests.id('workspace_a')));
select api.configure_vault(recovery_days => 7);
select api.put_secret('old', 'sk-old-1');
select api.put_secret('old', 'sk-old-2');
select api.put_secret('young', 'sk-young');
select api.put_secret('kept', 'sk-kept');
select api.delete_secret('old');
select set_config('collab.clock_offset', '6 days', true);
select tests.as_request('service_role', jsonb_build_object('workspace_id', tests.id('workspace_a')));
select api.delete_secret('young');

reset role;
select set_config('collab.clock_offset', '6 days 23 hours', true);
select collab.reap();
select is((select count(*)::integer from collab.secrets where workspace_id = tests.id('workspace_a')), 3,
  'within the recovery window nothing is purged');

select set_config('collab.clock_offset', '7 days 1 minute', true);
select collab.reap();
select results_eq($$select name from collab.secrets where workspace_id = tests.id('workspace_a') order by name$$,
  array['kept', 'young'], 'past its window the soft-deleted secret is destroyed; the others stay');
select is((select count(*)::integer from collab.secret_versions where workspace_id = tests.id('workspace_a') and name = 'old'), 0,
  'with every version');
select results_eq(
  $$select action, outcome, reason, version, actor from collab.secret_audit
     where workspace_id = tests.id('workspace_a') and name = 'old' and action = 'destroy'$$,
  $$values ('destroy'::text, 'ok'::text, 'recovery_window_passed'::text, 2, 'collab.reap'::text)$$,
  'one audit row: destroy, recovery_window_passed, by collab.reap');

select tests.as_request('service_role', jsonb_build_object('workspace_id', tests.id('workspace_a')));
select is((tests.outcome($$select api.restore_secret('old')$$)) ->> 'reason', 'secret_not_found',
  'a purged secret cannot be restored');
select is((api.restore_secret('young')) ->> 'name', 'young', 'the younger one is still restorable');
select is((api.read_secret('young')) ->> 'value', 'sk-young', 'and readable again');

reset role;
select set_config('collab.clock_offset', '30 days', true);
select collab.reap();
select is((select count(*)::integer from collab.secrets where workspace_id = tests.id('workspace_a')), 2,
  'a restored secret is never purged');
select is((select count(*)::integer from collab.secret_audit
            where workspace_id = tests.id('workspace_a') and reason = 'recovery_window_passed'), 1,
  'a second reap purges nothing more');

select * from finish();
ROLLBACK;
