-- Routing retention (collab.purge_routing): the snapshots and outcomes created more than
-- older_than ago go, oldest first, batch_size of each table a call, through their created_at
-- indexes; younger rows stay; older_than under 2 hours and a batch_size out of bounds are
-- refused; no API role may call it.
BEGIN;
select tests.tenancy_fixture();
select plan(13);

select tests.authenticate_as(tests.id('admin'));
select api.put_route('chat', 'a', 'p', 'm');
select api.put_route('chat', 'b', 'p', 'm');
select tests.authenticate_as(tests.id('member'));
-- three routed calls 10, 9 and 8 days ago, two an hour ago: a snapshot and an outcome each;
-- the first made is the youngest of the three, so neither the heap's order nor the ids are
-- the order of their age
create temp table calls (n integer, days_ago numeric, snapshot_id bigint, outcome_id bigint);
create or replace function pg_temp.call(n integer, days_ago numeric) returns void
language plpgsql as $$
declare s bigint;
begin
  perform set_config('collab.clock_offset', (-days_ago * 86400) || ' seconds', true);
  s := (api.rank_routes('chat') ->> 'snapshot_id')::bigint;
  insert into calls values (n, days_ago, s,
    (api.record_route_outcome(s, 'a', 200, 100) ->> 'outcome_id')::bigint);
end $$;
select pg_temp.call(3, 8);
select pg_temp.call(1, 10);
select pg_temp.call(2, 9);
select pg_temp.call(4, 1.0 / 24);
select pg_temp.call(5, 1.0 / 24);
select set_config('collab.clock_offset', '', true);

reset role;
select has_index('collab', 'routing_snapshots', 'routing_snapshots_created_idx', array['created_at'],
  'the snapshots have an index on created_at');
select has_index('collab', 'route_outcomes', 'route_outcomes_created_idx', array['created_at'],
  'the outcomes have an index on created_at');
select throws_ok($$select collab.purge_routing(interval '1 hour')$$, 'PT400', null,
  'older_than under 2 hours is refused');
select throws_ok($$select collab.purge_routing(interval '7 days', 0)$$, 'PT400', null,
  'a batch_size under 1 is refused');
select throws_ok($$select collab.purge_routing(interval '7 days', 100001)$$, 'PT400', null,
  'a batch_size over 100,000 is refused');

select is(collab.purge_routing(interval '7 days', 2), 4::bigint,
  'a batch of 2: two snapshots and two outcomes of the three calls older than 7 days');
select results_eq(
  $$select n from calls c where exists (select 1 from collab.routing_snapshots s where s.id = c.snapshot_id)
     order by n$$,
  $$values (3), (4), (5)$$, 'the oldest snapshots went first');
select results_eq(
  $$select n from calls c where exists (select 1 from collab.route_outcomes o where o.id = c.outcome_id)
     order by n$$,
  $$values (3), (4), (5)$$, 'the oldest outcomes went first');
select is(collab.purge_routing(interval '7 days', 2), 2::bigint, 'the next call takes the third');
select is(collab.purge_routing(interval '7 days', 2), 0::bigint, 'then nothing is left to purge');
select is((select count(*)::integer from calls c
            where exists (select 1 from collab.routing_snapshots s where s.id = c.snapshot_id)
              and exists (select 1 from collab.route_outcomes o where o.id = c.outcome_id)), 2,
  'the calls of an hour ago keep their snapshot and outcome');

-- the routes are ranked as before from what is left (an hour ago's samples)
select tests.authenticate_as(tests.id('member'));
select is((select (c ->> 'samples')::integer from jsonb_array_elements(api.rank_routes('chat') -> 'candidates') c
            where c ->> 'route' = 'a'), 2, 'route a keeps the samples of the calls retention kept');
select throws_ok($$select collab.purge_routing(interval '7 days')$$, '42501', null,
  'no API role may call it');

select * from finish();
ROLLBACK;
