-- collab.notify_events wakes collab_events at most once per 50 ms per session (a notifying
-- commit is serialised with every other one cluster-wide): it stamps the session when it
-- notifies and stays quiet while the stamp is fresh.
BEGIN;
select plan(4);

select set_config('collab.events_notified_at', '', true);
select collab.notify_events();
select isnt(current_setting('collab.events_notified_at', true), '', 'a first call notifies and stamps the session');

create temp table stamp as select current_setting('collab.events_notified_at') as at;
select collab.notify_events();
select is(current_setting('collab.events_notified_at'), (select at from stamp),
  'a second call within 50 ms stays quiet (the stamp does not move)');

select set_config('collab.events_notified_at', (clock_timestamp() - interval '1 second')::text, true);
select collab.notify_events();
select ok(current_setting('collab.events_notified_at')::timestamptz > clock_timestamp() - interval '1 second',
  'after the window it notifies again');

select results_eq($$select count(*)::integer from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     where n.nspname = 'collab' and p.proname in ('jobs_after_insert', 'jobs_after_update', 'record_presence')
                       and p.prosrc like '%collab.notify_events()%'$$,
  $$values (3)$$, 'the job triggers and the presence events wake subscribers through it');

select * from finish();
ROLLBACK;
