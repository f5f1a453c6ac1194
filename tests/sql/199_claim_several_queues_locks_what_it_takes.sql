-- A claim from several queues locks only the jobs it takes (revision 0031): the candidates,
-- each queue's first max_jobs due jobs, are read without a lock, and the claim locks the
-- first max_jobs of them in the claim order. Before, it locked each queue's first max_jobs
-- and kept them until commit. A row lock is written into the row: its xmax names the locker.
-- What others may take meanwhile, and the pick made again when others hold candidates:
-- tests/py/integration/test_claim_several_queues.py (two sessions).
BEGIN;
select plan(8);

select api.register_executor('several-locks', array['sl-a', 'sl-b', 'sl-c']) as ex \gset
-- Queue sl-a holds the best jobs (priority 5), sl-b and sl-c the rest (priority 0).
select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object(
  'queue', q, 'type', 't', 'priority', case q when 'sl-a' then 5 else 0 end)
  order by q, i)
  from unnest(array['sl-a', 'sl-b', 'sl-c']) q, generate_series(1, 6) i));

create function pg_temp.locked_not_taken() returns integer language sql as $$
  select count(*)::integer from collab.jobs
   where queue like 'sl-%' and status = 'queued'
     and xmax::text = (pg_current_xact_id()::text::bigint % 4294967296)::text
$$;

select is((select count(*)::integer from api.claim(:'ex', array['sl-a', 'sl-b', 'sl-c'], 4, 60)), 4,
  'a claim of 4 from three queues takes 4 jobs');
select is((select count(*)::integer from collab.jobs where queue = 'sl-a' and status = 'running'), 4,
  'the best 4: all from the queue of the higher priority');
select is(pg_temp.locked_not_taken(), 0,
  'and leaves no queued job locked (before 0031: the first 4 of sl-b and sl-c, 8 jobs)');

select is((select count(*)::integer from api.claim(:'ex', array['sl-c', 'sl-b', 'sl-a'], 5, 60)), 5,
  'the next claim of 5 takes 5');
select is((select array_agg(queue order by queue) from collab.jobs where status = 'running' and queue <> 'sl-a'),
  array['sl-b', 'sl-b', 'sl-b'],
  'the two left in sl-a, then the first three of priority 0 in id order (all of sl-b)');
select is(pg_temp.locked_not_taken(), 0, 'still no queued job locked');

select is((select count(*)::integer from api.claim(:'ex', array['sl-a', 'sl-b', 'sl-c'], 1000, 60)), 9,
  'a claim larger than what is due takes every due job');
select is_empty('select * from api.check_invariants()', 'invariants hold');

select * from finish();
ROLLBACK;
