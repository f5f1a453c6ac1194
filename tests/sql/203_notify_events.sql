-- collab.notify_events wakes "collab_events:<workspace>" at most once per 50 ms per session and
-- workspace (a notifying commit is serialised with every other one cluster-wide): it stamps
-- the session for that workspace when it notifies and stays quiet while the stamp is fresh;
-- another workspace's stamp never silences it (finding 8 of the security review).
BEGIN;
select plan(5);

select set_config('collab.events_notified_aaaaaaaa00000000000000000000000a', '', true);
select collab.notify_events('aaaaaaaa-0000-0000-0000-00000000000a'::uuid);
select isnt(current_setting('collab.events_notified_aaaaaaaa00000000000000000000000a', true), '', 'a first call notifies and stamps the session');

create temp table stamp as select current_setting('collab.events_notified_aaaaaaaa00000000000000000000000a') as at;
select collab.notify_events('aaaaaaaa-0000-0000-0000-00000000000a'::uuid);
select is(current_setting('collab.events_notified_aaaaaaaa00000000000000000000000a'), (select at from stamp),
  'a second call within 50 ms stays quiet (the stamp does not move)');

select collab.notify_events('bbbbbbbb-0000-0000-0000-00000000000b'::uuid);
select isnt(coalesce(current_setting('collab.events_notified_bbbbbbbb00000000000000000000000b', true), ''), '',
  'another workspace within the same 50 ms still notifies: its own stamp');

select set_config('collab.events_notified_aaaaaaaa00000000000000000000000a', (clock_timestamp() - interval '1 second')::text, true);
select collab.notify_events('aaaaaaaa-0000-0000-0000-00000000000a'::uuid);
select ok(current_setting('collab.events_notified_aaaaaaaa00000000000000000000000a')::timestamptz > clock_timestamp() - interval '1 second',
  'after the window it notifies again');

select results_eq($$select count(*)::integer from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     where n.nspname = 'collab' and p.proname in ('jobs_after_insert', 'jobs_after_update', 'record_presence')
                       and p.prosrc like '%collab.notify_events(%'$$,
  $$values (3)$$, 'the job triggers and the presence events wake subscribers through it');

select * from finish();
ROLLBACK;
