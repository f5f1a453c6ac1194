-- complete finishes a running job with its result, once: repeating it with the same token
-- returns the same job and writes nothing. complete_batch completes what it can and reports
-- each item on its own.
BEGIN;
select plan(16);

-- The DETAIL of the error a statement raises, with its SQLSTATE (null when it succeeds).
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

create temp table worker as select api.register_executor('worker-1', array['work']) as id;
select api.enqueue('work', 'a') from generate_series(1, 4);
create temp table claimed as select * from api.claim((select id from worker), array['work'], 4);
create temp table one as select * from claimed order by id limit 1;

-- complete
create temp table done as select * from api.complete((select id from one), (select lease_token from one), '{"rows": 7}');
select is((select status from done), 'succeeded', 'complete makes the job succeeded');
select is((select result from done), '{"rows": 7}'::jsonb, 'with its result');
select is((select finished_at from done), now(), 'finished now');
select is((select lease_expires_at from done), null, 'the lease is gone');
select is((select count(*) from collab.job_events where job_id = (select id from one) and type = 'succeeded'), 1::bigint,
  'one succeeded event');

create temp table events_before as select count(*) as n from collab.job_events;
create temp table repeated as select * from api.complete((select id from one), (select lease_token from one), '{"rows": 8}');
select is((select id from repeated), (select id from done), 'repeating complete with the same token returns the job');
select is((select result from repeated), '{"rows": 7}'::jsonb, 'with the first result, untouched');
select is((select count(*) from collab.job_events), (select n from events_before), 'and writes no event');
select is(pg_temp.error_of($$select api.complete((select id from one), gen_random_uuid())$$) ->> 'reason', 'lease_lost',
  'another token on the succeeded job is lease_lost');

-- complete_batch: ok, a repeat, a stale token, an unknown job.
create temp table batch as
  select row_number() over () as n, b.*
    from api.complete_batch((
      select jsonb_build_array(
        jsonb_build_object('job_id', c2.id, 'lease_token', c2.lease_token, 'result', 'two'),
        jsonb_build_object('job_id', (select id from one), 'lease_token', (select lease_token from one)),
        jsonb_build_object('job_id', c3.id, 'lease_token', gen_random_uuid()),
        jsonb_build_object('job_id', 999999999, 'lease_token', gen_random_uuid()),
        jsonb_build_object('job_id', c4.id, 'lease_token', c4.lease_token))
        from (select * from claimed order by id offset 1 limit 1) c2,
             (select * from claimed order by id offset 2 limit 1) c3,
             (select * from claimed order by id offset 3 limit 1) c4)) b;
select results_eq($$select n, ok, reason from batch order by n$$,
  $$values (1::bigint, true, null::text), (2, true, null), (3, false, 'lease_lost'), (4, false, 'job_not_found'), (5, true, null)$$,
  'complete_batch reports each item: ok, an idempotent repeat ok, lease_lost, job_not_found');
select results_eq($$select status::text, result from tests.all_jobs where id in (select id from claimed) order by id$$,
  $$values ('succeeded', '{"rows": 7}'::jsonb), ('succeeded', '"two"'::jsonb), ('running', null), ('succeeded', null)$$,
  'the good items succeeded, the stale one still runs');
select is((select count(*) from collab.job_events where job_id in (select id from claimed) and type = 'succeeded'), 3::bigint,
  'one succeeded event per completed job, none for the repeat');

select throws_ok($$select api.complete_batch('{}')$$, 'PT400', null, 'items must be an array');
select is(pg_temp.error_of($$select api.complete_batch('[{"job_id": 1, "lease_token": "00000000-0000-0000-0000-000000000000"}, {"job_id": "x", "lease_token": "00000000-0000-0000-0000-000000000000"}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "job_id", "index": 1}'::jsonb,
  'a bad job_id names its index');
select is(pg_temp.error_of($$select api.complete_batch('[{"job_id": 1, "lease_token": "nope"}]')$$) ->> 'field',
  'lease_token', 'a bad lease_token is refused');
select is(pg_temp.error_of($$select api.complete_batch('[7]')$$) ->> 'field', 'items', 'a non-object item is refused');

select * from finish();
ROLLBACK;
