-- collab.transition_allowed is the state machine: exactly these (from, to, event) triples
-- are legal, every other combination of statuses and events is not.
BEGIN;
select plan(3);

select results_eq(
  $$select f::text, t::text, e::text
      from (select null::collab.job_status union all select unnest(enum_range(null::collab.job_status))) fs(f),
           unnest(enum_range(null::collab.job_status)) t,
           unnest(enum_range(null::collab.job_event_type)) e
     where collab.transition_allowed(f, t, e)
     order by 1 nulls first, 2, 3$$,
  $$values (null, 'queued', 'enqueued'),
           ('dead', 'queued', 'requeued'),
           ('queued', 'cancelled', 'cancelled'),
           ('queued', 'running', 'claimed'),
           ('running', 'cancelled', 'cancelled'),
           ('running', 'dead', 'dead'),
           ('running', 'queued', 'lease_expired'),
           ('running', 'queued', 'lease_released'),
           ('running', 'queued', 'retry_scheduled'),
           ('running', 'running', 'cancel_requested'),
           ('running', 'running', 'progress'),
           ('running', 'succeeded', 'succeeded')$$,
  'the legal transitions, and nothing else');
select is(
  (select count(*)
     from unnest(enum_range(null::collab.job_status)) f, unnest(enum_range(null::collab.job_status)) t,
          unnest(enum_range(null::collab.job_event_type)) e
    where collab.transition_allowed(f, t, e) is null), 0::bigint,
  'the answer is never null');
select ok(not exists (
  select 1 from unnest(array['succeeded', 'cancelled']::collab.job_status[]) f,
                unnest(enum_range(null::collab.job_status)) t, unnest(enum_range(null::collab.job_event_type)) e
   where collab.transition_allowed(f, t, e)),
  'succeeded and cancelled are terminal: nothing leaves them');

select * from finish();
ROLLBACK;
