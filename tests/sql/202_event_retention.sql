-- Retention: collab.purge_events deletes a prefix of the stream (oldest (xid, id) first),
-- only events older than the retention, only events already rolled up into metrics, never
-- the newest; api.events_since refuses a cursor that fell behind it with PT410
-- cursor_expired (reason in the DETAIL JSON) and keeps serving every other cursor.
BEGIN;
select plan(13);

create function pg_temp.error_of(statement text) returns jsonb language plpgsql as $$
declare
  state text;
  detail text;
begin
  execute statement;
  return null;
exception when others then
  get stacked diagnostics state = returned_sqlstate, detail = pg_exception_detail;
  return coalesce(nullif(detail, '')::jsonb, '{}'::jsonb) || jsonb_build_object('sqlstate', state);
end
$$;

-- Start from an empty stream so that "oldest" and "newest" are this test's events.
delete from collab.job_events;
select api.enqueue('ret', 't') from generate_series(1, 5);
set local collab.clock_offset = '5 days';
select api.enqueue('ret', 't') from generate_series(1, 3);
set local collab.clock_offset = '10 days';
create temp table ev as select e.id, e.xid, e.xid::text || ':' || e.id as cursor, e.created_at
  from collab.job_events e order by e.xid, e.id;

select is(collab.purge_events('7 days'), 0::bigint,
  'nothing is purged before the metrics rollup has counted it (horizon below these events)');

-- Pretend the rollup has passed this transaction.
update collab.metrics_rollup_state set horizon = (pg_current_xact_id()::text::bigint + 1)::text::xid8;

select is(collab.purge_events('7 days', 2), 2::bigint, 'a batch deletes at most batch_size events');
select results_eq($$select id from collab.job_events order by id$$,
  $$select id from ev order by id offset 2$$, 'the two oldest in stream order are gone');
select is(collab.purge_events('7 days'), 3::bigint, 'the next call takes the rest of the old ones');
select is(collab.purge_events('7 days'), 0::bigint, 'then nothing: the younger events are kept');
select is((select count(*) from collab.job_events), 3::bigint, 'the 3 events younger than 7 days remain');

select is(pg_temp.error_of(format($$select * from api.events_since(%L)$$, (select cursor from ev order by id limit 1 offset 1)))
            - 'oldest_cursor' - 'field',
  '{"reason": "cursor_expired", "sqlstate": "PT410"}'::jsonb,
  'a cursor whose events were purged: PT410 cursor_expired');
select is(pg_temp.error_of(format($$select * from api.events_since(%L)$$, (select cursor from ev order by id limit 1 offset 1))) ->> 'oldest_cursor',
  (select cursor from ev order by id limit 1 offset 5),
  'the DETAIL names the oldest cursor still served');
select throws_ok(format($$select * from api.events_since(%L)$$, (select cursor from ev order by id limit 1 offset 4)),
  'PT410', null, 'the last purged event''s cursor is refused too (conservative: nothing says no more were purged)');
select lives_ok(format($$select * from api.events_since(%L)$$, (select cursor from ev order by id limit 1 offset 5)),
  'a cursor at a retained event is served');
select lives_ok($$select * from api.events_since(null)$$, 'a null cursor starts at the oldest retained event');

set local collab.clock_offset = '100 days';
select is(collab.purge_events('7 days'), 2::bigint, 'everything old goes, except the newest event');
select throws_ok($$select collab.purge_events('-1 day')$$, 'PT400', 'older_than must be a non-negative interval',
  'a negative retention is refused');

select * from finish();
ROLLBACK;
