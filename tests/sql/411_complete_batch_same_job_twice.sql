-- Found by review while fuzzing: a complete_batch naming one job twice, once with its lease
-- token and once with a stale one, reported both items ok. Each item is judged by its own
-- token: the right one completes the job, the stale one is lease_lost and changes nothing.
BEGIN;
select plan(5);

select api.enqueue('twice', 't');
create temp table c as
  select * from api.claim(api.register_executor('twice-executor', '{twice}'), '{twice}', 1, 60);

create temp table outcome as
  select row_number() over () as n, o.*
    from api.complete_batch(jsonb_build_array(
      jsonb_build_object('job_id', (select id from c), 'lease_token', (select lease_token from c),
                         'result', '{"right": true}'::jsonb),
      jsonb_build_object('job_id', (select id from c), 'lease_token', gen_random_uuid(),
                         'result', '{"stale": true}'::jsonb))) o;

select results_eq($$select ok, reason from outcome order by n$$,
  $$values (true, null::text), (false, 'lease_lost')$$,
  'the item with the right token is ok, the one with a stale token is lease_lost');
select is((select status::text from tests.all_jobs where id = (select id from c)), 'succeeded',
  'the job succeeded');
select is((select result from tests.all_jobs where id = (select id from c)), '{"right": true}'::jsonb,
  'with the result of the item holding the lease');
select is((select count(*)::int from collab.job_events
            where job_id = (select id from c) and type = 'succeeded'), 1,
  'one succeeded event');
select results_eq(
  $$select ok, reason from api.complete_batch(jsonb_build_array(
      jsonb_build_object('job_id', (select id from c), 'lease_token', (select lease_token from c))))$$,
  $$values (true, null::text)$$,
  'repeating the right item later is still a no-op that reports ok');

select * from finish();
ROLLBACK;
