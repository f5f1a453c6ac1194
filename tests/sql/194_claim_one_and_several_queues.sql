-- api.claim picks from one open queue with one read of the claim index, and from several by
-- taking each queue's first jobs and then the best of them; both give the claim order
-- (priority, then run_at, then id) whatever order the call names the queues in. Queues with
-- a concurrency limit are read only when the call names one and the open queues left room;
-- paused queues never. Every name the call gives is checked in the call's order (the first
-- invalid one is the one reported).
BEGIN;
select plan(17);

create temp table w as
select api.register_executor('sorter', array['q-a', 'q-b', 'q-c', 'q-lim', 'q-paused']) as id;

-- Same run_at for all: the order within a priority is then the id.
create temp table job (name text, id bigint);
insert into job
select 'a' || i, (api.enqueue('q-a', 't', priority => case i when 2 then 5 else 0 end,
                              run_at => now() - interval '1 minute')).id
  from generate_series(1, 3) i;
insert into job
select 'b' || i, (api.enqueue('q-b', 't', priority => case i when 1 then 9 else 0 end,
                              run_at => now() - interval '2 minutes')).id
  from generate_series(1, 3) i;
insert into job
select 'c' || i, (api.enqueue('q-c', 't', priority => 0, run_at => now() - interval '1 minute')).id
  from generate_series(1, 3) i;

-- One queue: priority first, then run_at, then id.
select results_eq(
  $$select j.name from api.claim((select id from w), array['q-a'], 2, 60) c join job j using (id) order by c.priority desc, c.run_at, c.id$$,
  $$values ('a2'), ('a1')$$,
  'one queue: the higher priority first, then the lower id at the same run_at');
select results_eq(
  $$select j.name from api.claim((select id from w), array['q-a'], 5, 60) c join job j using (id)$$,
  $$values ('a3')$$,
  'one queue: the next claim gets the rest, and nothing claimed twice');

-- Several queues: the best jobs across them, in the claim order, whatever the call's order.
create temp table several as
select row_number() over () as n, j.name
  from api.claim((select id from w), array['q-c', 'q-b'], 4, 60) c join job j using (id);
select results_eq($$select name from several order by n$$,
  $$values ('b1'), ('b2'), ('b3'), ('c1')$$,
  'several queues: priority 9 first, then the older run_at of q-b, then q-c by id');
select results_eq(
  $$select j.name from api.claim((select id from w), array['q-b', 'q-c'], 5, 60) c join job j using (id)$$,
  $$values ('c2'), ('c3')$$,
  'named in another order: the rest, in id order');

-- Open and limited queues in one call: the open ones first, then the limited within budget;
-- a paused queue gives nothing.
select api.configure_queue('q-lim', concurrency_limit => 2);
select api.enqueue('q-lim', 't') from generate_series(1, 3);
select api.enqueue('q-paused', 't') from generate_series(1, 3);
select api.pause_queue('q-paused');
select api.enqueue('q-a', 't') from generate_series(1, 2);
create temp table mixed as
select c.queue from api.claim((select id from w), array['q-paused', 'q-lim', 'q-a'], 10, 60) c;
select is((select count(*)::integer from mixed where queue = 'q-a'), 2, 'mixed: both open jobs');
select is((select count(*)::integer from mixed where queue = 'q-lim'), 2, 'mixed: the limited queue up to its limit');
select is((select count(*)::integer from mixed where queue = 'q-paused'), 0, 'mixed: nothing from the paused queue');

-- Open jobs that fill the claim leave a limited queue alone: no row lock on its queue row.
select api.configure_queue('q-lim2', concurrency_limit => 10);
select api.enqueue('q-lim2', 't');
select api.enqueue('q-a', 't') from generate_series(1, 2);
-- (A row lock is written into the row: its xmax names the locker.)
select is((select xmax::text from collab.queues where name = 'q-lim2'), '0', 'a limited queue''s row, unlocked');
select is((select count(*)::integer from api.claim((select id from w), array['q-lim2', 'q-a'], 2, 60) c where c.queue = 'q-a'), 2,
  'open jobs that fill the claim are taken');
select is((select xmax::text from collab.queues where name = 'q-lim2'), '0',
  'and the limited queue''s row was not locked for them');
select is((select count(*)::integer from api.claim((select id from w), array['q-lim2', 'q-a'], 2, 60) c where c.queue = 'q-lim2'), 1,
  'the next claim goes on to the limited queue');
select is((select xmax::text from collab.queues where name = 'q-lim2'), (pg_current_xact_id()::text::bigint % 4294967296)::text,
  'and locks its row to count its running jobs');

-- Names: every one given is checked, the first invalid one reported.
select throws_matching($$select api.claim((select id from w), array['q-a', 'bad name', '-worse'])$$,
  '^queues must be .*\(got ''bad name''\)$', 'the first invalid name in the call''s order is the one reported');
select throws_matching($$select api.claim((select id from w), array['-first', 'q-a', 'bad name'])$$,
  '^queues must be .*\(got ''-first''\)$', 'an invalid first name is reported before a later one');
select throws_matching($$select api.claim((select id from w), array['q-a', null])$$,
  '^queues must be .*\(got null\)$', 'a null name is refused');
select lives_ok($$select api.claim((select id from w), array['q-a', 'q-a', 'nowhere'])$$,
  'valid names, repeated or naming no queue yet, are accepted');

select is_empty('select * from api.check_invariants()', 'invariants hold');

select * from finish();
ROLLBACK;
