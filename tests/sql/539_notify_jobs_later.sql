-- collab.notify_jobs_later tells "collab_jobs:<workspace>" when delayed jobs will be due, at
-- most once per 50 ms per session and workspace (a notifying commit is serialised with every
-- other one cluster-wide): it stamps the session for that workspace when it notifies and stays
-- quiet while the stamp is fresh; another workspace's stamp never silences it. The triggers
-- call it only for jobs whose run_at is ahead, with their distinct delays from the statement's
-- time (collab.statement_clock; collab.due_in_ms: rounded up, at least 1, ascending). What it sends
-- (`@<ms>[,<ms>...] <queues>`) and what the workers do with it:
-- tests/py/integration/test_notify_jobs_due.py.
BEGIN;
select plan(13);

select set_config('collab.jobs_later_notified_aaaaaaaa00000000000000000000000a', '', true);
select collab.notify_jobs_later('aaaaaaaa-0000-0000-0000-00000000000a'::uuid, array['q'], array[60000::bigint]);
select isnt(current_setting('collab.jobs_later_notified_aaaaaaaa00000000000000000000000a', true), '',
  'a first call notifies and stamps the session');

create temp table stamp as
  select current_setting('collab.jobs_later_notified_aaaaaaaa00000000000000000000000a') as at;
select collab.notify_jobs_later('aaaaaaaa-0000-0000-0000-00000000000a'::uuid, array['q'], array[1000::bigint]);
select is(current_setting('collab.jobs_later_notified_aaaaaaaa00000000000000000000000a'), (select at from stamp),
  'a second call within 50 ms stays quiet (the stamp does not move)');

select collab.notify_jobs_later('bbbbbbbb-0000-0000-0000-00000000000b'::uuid, array['q'], array[1000::bigint]);
select isnt(coalesce(current_setting('collab.jobs_later_notified_bbbbbbbb00000000000000000000000b', true), ''), '',
  'another workspace within the same 50 ms still notifies: its own stamp');

select set_config('collab.jobs_later_notified_aaaaaaaa00000000000000000000000a',
                  (clock_timestamp() - interval '1 second')::text, true);
select collab.notify_jobs_later('aaaaaaaa-0000-0000-0000-00000000000a'::uuid, array['q'], array[1000::bigint]);
select ok(current_setting('collab.jobs_later_notified_aaaaaaaa00000000000000000000000a')::timestamptz
            > clock_timestamp() - interval '1 second',
  'after the window it notifies again');

select results_eq($$select count(*)::integer from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     where n.nspname = 'collab' and p.proname in ('jobs_after_insert', 'jobs_after_update')
                       and p.prosrc like '%when w.due_in is not null then collab.notify_jobs_later(%'$$,
  $$values (2)$$, 'both job triggers call it, and only for jobs due later');

select throws_ok($$select collab.notify_jobs_later(null, array['q'], array[1::bigint])$$, '22023', 'channel name cannot be empty',
  'a workspace is required: pg_notify refuses a null channel');

select is(collab.due_in_ms('2026-01-01 00:00:01.0001+00', '2026-01-01 00:00:00+00'), 1001::bigint,
  'due_in_ms rounds up: a worker never wakes early');
select is(collab.due_in_ms('2026-01-01 00:00:01+00', '2026-01-01 00:00:00+00'), 1000::bigint, 'whole milliseconds stay');
select is(collab.due_in_ms('2026-01-01 00:00:00.000001+00', '2026-01-01 00:00:00+00'), 1::bigint, 'and is at least 1 ...');
select is(collab.due_in_ms('2025-12-31 23:59:59+00', '2026-01-01 00:00:00+00'), 1::bigint, '... also when due already');
select results_eq($$select count(*)::integer from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     where n.nspname = 'collab' and p.proname in ('jobs_after_insert', 'jobs_after_update')
                       and p.prosrc like '%array_agg(distinct collab.due_in_ms(n.run_at, at\_) order by collab.due_in_ms(n.run_at, at\_))%'
                       and p.prosrc like '%at\_ := collab.statement\_clock();%'$$,
  $$values (2)$$, 'both triggers pass the distinct delays, ascending, from the statement''s time');


-- The statement's time: Collab's clock (moved by collab.clock_offset) plus the time since the
-- transaction began.
select set_config('collab.clock_offset', '1 day', true);
select pg_sleep(0.05);
select ok(collab.statement_clock() - collab.clock() between interval '50 milliseconds' and interval '1 minute',
  'statement_clock is later than the transaction''s time by the time since it began');
select ok(collab.statement_clock() > now() + interval '1 day',
  'and on Collab''s clock: the offset moves it');
select set_config('collab.clock_offset', '', true);

select * from finish();
ROLLBACK;
