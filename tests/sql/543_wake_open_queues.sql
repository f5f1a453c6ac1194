-- collab.wake_workers: the job triggers' wake-up for queues that got jobs due now names only
-- those open and below their concurrency limit, in the order given, and is not sent when none
-- is left; the triggers call it when one of the queues is paused or has a limit of up to 100,
-- and collab.notify_jobs directly otherwise. Notifications only leave at a commit, so here
-- collab.notify_jobs is replaced, inside this rolled-back transaction, by one that records its
-- calls (tests.record_wakeups). What the workers hear and do:
-- tests/py/integration/test_notify_closed_queues.py.
BEGIN;
select plan(20);

select tests.record_wakeups();

select alike(pg_get_functiondef('collab.jobs_after_insert()'::regprocedure), '%collab.wake_workers(w.workspace_id, w.queues)%',
  'the insert trigger calls it');
select alike(pg_get_functiondef('collab.jobs_after_update()'::regprocedure), '%collab.wake_workers(w.workspace_id, w.queues)%',
  'the update trigger calls it');

-- The function itself.
select api.enqueue('wo-open', 't');
select api.enqueue('wo-paused', 't');
select api.pause_queue('wo-paused');
select api.configure_queue('wo-limit', concurrency_limit => 1);
select api.configure_queue('wo-roomy', concurrency_limit => 2);
create temp table ex as select api.register_executor('wo-exec', array['wo-limit', 'wo-roomy']) as id;
select api.enqueue('wo-limit', 't');
select api.enqueue('wo-roomy', 't');
select api.enqueue('wo-roomy', 't');
select is((select count(*)::integer from api.claim((select id from ex), array['wo-limit'], 5)), 1, 'one running of wo-limit''s one');
select is((select count(*)::integer from api.claim((select id from ex), array['wo-roomy'], 1)), 1, 'one running of wo-roomy''s two');
truncate woken;

select collab.wake_workers(collab.current_workspace(), array['wo-open', 'wo-paused', 'wo-limit', 'wo-roomy', 'wo-none']);
select results_eq($$select queues from woken$$, $$values (array['wo-open', 'wo-roomy', 'wo-none'])$$,
  'open queues and those below their limit, in the order given; a name with no queue row is kept');
truncate woken;
select collab.wake_workers(collab.current_workspace(), array['wo-roomy', 'wo-open']);
select results_eq($$select queues from woken$$, $$values (array['wo-roomy', 'wo-open'])$$, 'the order given');
truncate woken;
select collab.wake_workers(collab.current_workspace(), array['wo-paused', 'wo-limit']);
select is((select count(*)::integer from woken), 0, 'none left: no wake-up (an empty list would wake every queue)');
select collab.wake_workers(collab.current_workspace(), array['wo-open']);
select collab.wake_workers('aaaaaaaa-0000-0000-0000-00000000000a', array['wo-paused']);
select results_eq($$select workspace_id, queues from woken$$,
  $$values (collab.current_workspace(), array['wo-open']), ('aaaaaaaa-0000-0000-0000-00000000000a'::uuid, array['wo-paused'])$$,
  'its workspace''s queues only: another workspace''s queue of the same name is not this one');
truncate woken;

-- Through the insert trigger.
select api.enqueue('wo-paused', 't');
select is((select count(*)::integer from woken), 0, 'an enqueue to a paused queue wakes nobody');
select api.enqueue('wo-limit', 't');
select is((select count(*)::integer from woken), 0, 'nor one to a queue at its limit');
select api.enqueue('wo-open', 't');
select results_eq($$select queues from woken$$, $$values (array['wo-open'])$$, 'an open queue: as before');
truncate woken;
select api.enqueue_batch('[{"queue": "wo-paused", "type": "t"}, {"queue": "wo-roomy", "type": "t"},
                           {"queue": "wo-open", "type": "t"}, {"queue": "wo-limit", "type": "t"}]');
select results_eq($$select queues from woken$$, $$values (array['wo-open', 'wo-roomy'])$$,
  'a batch: one wake-up, its open queues in name order');
truncate woken;
select api.enqueue('wo-paused', 't', delay => interval '1 hour');
select is((select count(*)::integer from woken), 0, 'a delayed job wakes nobody now, as before');

-- Through the update trigger: a job back to queued, due now.
select api.pause_queue('wo-roomy');
select api.fail(c.id, c.lease_token, '"x"', retry_in => interval '0') from (
  select j.id, j.lease_token from collab.jobs j
   where j.workspace_id = collab.current_workspace() and j.queue = 'wo-roomy' and j.status = 'running') c;
select is((select count(*)::integer from woken), 0, 'a retry due now on a paused queue wakes nobody');
select api.fail(c.id, c.lease_token, '"x"', retry_in => interval '0') from (
  select j.id, j.lease_token from collab.jobs j
   where j.workspace_id = collab.current_workspace() and j.queue = 'wo-limit' and j.status = 'running') c;
select results_eq($$select queues from woken$$, $$values (array['wo-limit'])$$,
  'a retry that frees its queue''s one place wakes its workers');
truncate woken;

-- A limit removed: the queue is woken as any open one.
select api.resume_queue('wo-roomy');
select api.configure_queue('wo-roomy', concurrency_limit => 0);
truncate woken;
select api.enqueue('wo-roomy', 't');
select results_eq($$select queues from woken$$, $$values (array['wo-roomy'])$$, 'a limit removed: woken as any open queue');

-- Running jobs are counted for a limit of up to 100 only: a larger limit is not counted, and
-- its queue is woken as before.
select api.configure_queue('wo-100', concurrency_limit => 100);
select api.configure_queue('wo-101', concurrency_limit => 101);
select api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', q, 'type', 't'))
                            from unnest(array['wo-100', 'wo-101']) q, generate_series(1, 101)));
create temp table ex2 as select api.register_executor('wo-exec2', array['wo-100', 'wo-101']) as id;
select is((select count(*)::integer from api.claim((select id from ex2), array['wo-100'], 1000))
        + (select count(*)::integer from api.claim((select id from ex2), array['wo-101'], 1000)), 201,
  'wo-100 at its limit of 100, wo-101 at its limit of 101');
truncate woken;
select collab.wake_workers(collab.current_workspace(), array['wo-100', 'wo-101']);
select results_eq($$select queues from woken$$, $$values (array['wo-101'])$$,
  'a limit of 100 reached: left out; of 101: not counted, woken');

-- A queue without a limit is never counted, even in a call that names a paused queue too
-- (no entry read from the indexes of collab.jobs, tests.side_reads: the count would read
-- every running job of it).
select is((select count(*)::integer from api.claim((select id from ex), array['wo-open'], 2)), 2, 'two jobs of wo-open running');
create temp table seen as select tests.side_reads() as n;
select collab.wake_workers(collab.current_workspace(), array['wo-open', 'wo-paused', 'wo-open']);
select is(tests.side_reads() - (select n from seen), 0::bigint,
  'no limit, or paused: no running job is read');

select * from finish();
ROLLBACK;
