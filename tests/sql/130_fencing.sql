-- Fencing: complete, fail and progress act only with the current lease token of a running
-- job. A wrong or stale token is PT409 lease_lost and changes nothing (row and events); an
-- unknown job is PT404 job_not_found. (progress is fenced the same way: 132_progress.sql.)
BEGIN;
select plan(15);

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
select api.enqueue('work', 'a');
create temp table first_claim as select * from api.claim((select id from worker), array['work'], 1);

create temp table before as
  select (select to_jsonb(j) from tests.all_jobs j where j.id = (select id from first_claim)) as job,
         (select count(*) from collab.job_events e where e.job_id = (select id from first_claim)) as events;

select throws_ok($$select api.complete((select id from first_claim), gen_random_uuid(), '{"done": true}')$$,
  'PT409', null, 'complete with a wrong token is refused');
select is(pg_temp.error_of($$select api.complete((select id from first_claim), gen_random_uuid())$$),
  jsonb_build_object('sqlstate', 'PT409', 'reason', 'lease_lost', 'field', 'lease_token',
                     'job_id', (select id from first_claim), 'status', 'running'),
  'the DETAIL says lease_lost and names the job and its status');
select throws_ok($$select api.fail((select id from first_claim), gen_random_uuid(), '{"e": 1}')$$,
  'PT409', null, 'fail with a wrong token is refused');
select throws_ok($$select api.fail((select id from first_claim), gen_random_uuid(), '{"e": 1}', retryable => false)$$,
  'PT409', null, 'a non-retryable fail with a wrong token is refused');
select throws_ok($$select api.complete((select id from first_claim), null)$$,
  'PT409', null, 'complete without a token is refused');

select is((select to_jsonb(j) from tests.all_jobs j where j.id = (select id from first_claim)), (select job from before),
  'the job row is exactly as before');
select is((select count(*) from collab.job_events e where e.job_id = (select id from first_claim)), (select events from before),
  'and no event was written');

-- Unknown job.
select throws_ok($$select api.complete(-1, gen_random_uuid())$$, 'PT404', null, 'complete of an unknown job is PT404');
select is(pg_temp.error_of($$select api.complete(-1, gen_random_uuid())$$),
  '{"sqlstate": "PT404", "reason": "job_not_found", "field": "job_id", "job_id": -1}'::jsonb,
  'the DETAIL says job_not_found');
select throws_ok($$select api.fail(-1, gen_random_uuid())$$, 'PT404', null, 'fail of an unknown job is PT404');

-- A stale token: the lease expired and another attempt holds the job now.
set local collab.clock_offset = '10 minutes';
select collab.expire_leases();
set local collab.clock_offset = '20 minutes';
create temp table second_claim as select * from api.claim((select id from worker), array['work'], 1);
select is((select attempt from second_claim), 2, 'after the lease expired the job was claimed again (attempt 2)');
select is(pg_temp.error_of($$select api.complete((select id from first_claim), (select lease_token from first_claim))$$) ->> 'reason',
  'lease_lost', 'the first attempt''s token no longer completes the job');
select is(pg_temp.error_of($$select api.fail((select id from first_claim), (select lease_token from first_claim))$$) ->> 'reason',
  'lease_lost', 'nor fails it');
select is((select status from api.complete((select id from second_claim), (select lease_token from second_claim), '{"ok": 1}')),
  'succeeded', 'the current token completes it');
select is(pg_temp.error_of($$select api.fail((select id from first_claim), (select lease_token from first_claim))$$),
  jsonb_build_object('sqlstate', 'PT409', 'reason', 'lease_lost', 'field', 'lease_token',
                     'job_id', (select id from first_claim), 'status', 'succeeded'),
  'a stale fail after success is lease_lost too, and says the job succeeded');

select * from finish();
ROLLBACK;
