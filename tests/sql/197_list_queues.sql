-- list_queues shows every queue of the workspace with its settings and its jobs per state.
BEGIN;
select plan(2);

create temp table worker as select api.register_executor('worker-1', array['count']) as id;
select api.enqueue('count', 't', run_at => now() + interval '1 hour') from generate_series(1, 2);
select api.enqueue('count', 't') from generate_series(1, 4);
create temp table claimed as select * from api.claim((select id from worker), array['count'], 4);
select api.complete(id, lease_token) from (select * from claimed order by id limit 1) c;
select api.fail(id, lease_token, retryable => false) from (select * from claimed order by id offset 1 limit 1) c;
select api.cancel(id) from (select id from tests.all_jobs where queue = 'count' and status = 'queued' limit 1) q;
select api.pause_queue('empty');

select results_eq(
  $$select (l.queue).name, (l.queue).paused, l.queued, l.running, l.succeeded, l.cancelled, l.dead
      from api.list_queues() l where (l.queue).name in ('count', 'empty') order by 1$$,
  $$values ('count', false, 1::bigint, 2::bigint, 1::bigint, 1::bigint, 1::bigint),
           ('empty', true, 0, 0, 0, 0, 0)$$,
  'each queue with its jobs per state; an empty queue counts zeros');
select is((select (l.queue).max_attempts from api.list_queues() l where (l.queue).name = 'count'), 5,
  'with its settings');

select * from finish();
ROLLBACK;
