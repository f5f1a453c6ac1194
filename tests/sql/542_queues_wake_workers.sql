-- collab.queues_after_update: a queue resumed, or whose concurrency limit was raised or
-- removed, wakes its workers (collab.notify_jobs) when it holds a job due now; one call per
-- workspace and statement, naming those queues. Notifications only leave at a commit, so here
-- collab.notify_jobs is replaced, inside this rolled-back transaction, by one that records its
-- calls (tests.record_wakeups). What the workers hear and do:
-- tests/py/integration/test_notify_queue_resumed.py.
BEGIN;
select plan(11);

select tests.record_wakeups();

select trigger_is('collab', 'queues', 'queues_wake_workers', 'collab', 'queues_after_update',
  'the trigger on collab.queues');
select results_eq($$select tgtype & 1 = 0, tgtype & 16 <> 0 from pg_trigger where tgname = 'queues_wake_workers'$$,
  $$values (true, true)$$, 'once per statement, after an update');

select api.pause_queue('qw-a');
select api.pause_queue('qw-b');
select api.pause_queue('qw-empty');
select api.enqueue('qw-a', 't');
select api.enqueue('qw-b', 't');
select api.enqueue('qw-later', 't', delay => interval '1 hour');
select api.pause_queue('qw-later');
truncate woken;

select api.resume_queue('qw-a');
select results_eq($$select queues from woken$$, $$values (array['qw-a'])$$, 'a resumed queue with a job due now');
truncate woken;

select api.resume_queue('qw-empty');
select api.resume_queue('qw-later');
select is((select count(*)::integer from woken), 0, 'no job, or none due yet: nobody to wake');

update collab.queues set paused = false where name in ('qw-b', 'qw-empty') or name = 'qw-a';
select results_eq($$select queues from woken$$, $$values (array['qw-b'])$$,
  'any writer; one call a statement, naming the queues resumed with jobs due now (qw-a was not paused)');
truncate woken;

select api.pause_queue('qw-a');
select is((select count(*)::integer from woken), 0, 'a pause wakes nobody');
select api.resume_queue('qw-a');
truncate woken;

select api.configure_queue('qw-a', concurrency_limit => 1);
select is((select count(*)::integer from woken), 0, 'a limit set where there was none: fewer jobs may run');
select api.configure_queue('qw-a', concurrency_limit => 2);
select results_eq($$select queues from woken$$, $$values (array['qw-a'])$$, 'a raised limit');
truncate woken;
select api.configure_queue('qw-a', concurrency_limit => 0);
select results_eq($$select queues from woken$$, $$values (array['qw-a'])$$, 'a removed limit');
truncate woken;
select api.configure_queue('qw-a', lease_seconds => 90, max_attempts => 2);
select is((select count(*)::integer from woken), 0, 'other settings wake nobody');
select api.pause_queue('qw-a');
select api.configure_queue('qw-a', concurrency_limit => 5);
select is((select count(*)::integer from woken), 0, 'a limit raised on a paused queue: it stays paused');

select * from finish();
ROLLBACK;
