-- A heartbeat records the executor's presence, extends every lease it holds (without an
-- event), reports the jobs it believes it holds but does not (lost), and turns a pending
-- cancel into a cancelled job it must stop (cancelled).
BEGIN;
select plan(12);

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

create temp table worker as select api.register_executor('worker-1', array['hb']) as id;
create temp table other as select api.register_executor('worker-2', array['hb']) as id;
create temp table job as
  select 'a' as name, (api.enqueue('hb', 't')).id
  union all select 'b', (api.enqueue('hb', 't')).id
  union all select 'c', (api.enqueue('hb', 't')).id;
select api.claim((select id from worker), array['hb'], 2, 30);   -- a and b
select api.claim((select id from other), array['hb'], 1, 30);    -- c
create temp table events_before as select count(*) as n from collab.job_events;

set local collab.clock_offset = '20 seconds';
create temp table beat as
  select * from api.heartbeat((select id from worker), array[(select id from job where name = 'a'),
                                                             (select id from job where name = 'b'),
                                                             (select id from job where name = 'c')]);
select is((select extended from beat), 2, 'the heartbeat extends the two leases the executor holds');
select results_eq($$select lease_expires_at from tests.all_jobs where id in (select id from job where name in ('a', 'b'))$$,
  $$values (now() + interval '50 seconds'), (now() + interval '50 seconds')$$,
  'each by its lease_seconds from now');
select is((select lost from beat), array[(select id from job where name = 'c')], 'a job held by another executor is reported lost');
select is((select cancelled from beat), '{}'::bigint[], 'nothing was cancelled');
select is((select heartbeat_seconds from beat), 5, 'it tells the executor its heartbeat interval');
select is((select last_seen_at from collab.executors where id = (select id from worker)), now() + interval '20 seconds',
  'it records the executor''s presence');
select is((select count(*) from collab.job_events), (select n from events_before), 'lease extensions write no event');

-- A cancel of a running job reaches the executor at its next heartbeat.
select api.cancel((select id from job where name = 'a'));
create temp table beat2 as select * from api.heartbeat((select id from worker), array[(select id from job where name = 'a'), (select id from job where name = 'b')]);
select is((select cancelled from beat2), array[(select id from job where name = 'a')], 'the cancelled job is reported cancelled');
select is((select lost from beat2), '{}'::bigint[], 'and not lost');
select results_eq($$select status::text, finished_at, lease_expires_at from tests.all_jobs where id = (select id from job where name = 'a')$$,
  $$values ('cancelled', now() + interval '20 seconds', null::timestamptz)$$, 'the job is now cancelled');
select results_eq($$select type::text from collab.job_events where job_id = (select id from job where name = 'a') order by id$$,
  $$values ('enqueued'), ('claimed'), ('cancel_requested'), ('cancelled')$$, 'its history ends cancel_requested, cancelled');

select is(pg_temp.error_of($$select api.heartbeat(gen_random_uuid())$$),
  '{"sqlstate": "PT404", "reason": "executor_not_found", "field": "executor_id"}'::jsonb, 'an unknown executor is PT404');

select * from finish();
ROLLBACK;
