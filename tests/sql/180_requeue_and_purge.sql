-- The dead-letter queue: requeue sends dead jobs back to queued (`requeued`) with a fresh
-- budget of attempts, all or nothing; purge_dead deletes dead jobs and their events.
BEGIN;
select plan(14);

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

create temp table worker as select api.register_executor('worker-1', array['dlq', 'other']) as id;
create temp table job as
  select 'dead1' as name, (api.enqueue('dlq', 't')).id
  union all select 'dead2', (api.enqueue('dlq', 't')).id
  union all select 'dead3', (api.enqueue('other', 't')).id
  union all select 'alive', (api.enqueue('dlq', 't', run_at => now() + interval '1 hour')).id;
select api.fail(c.id, c.lease_token, '{"e": "boom"}', retryable => false)
  from api.claim((select id from worker), array['dlq', 'other'], 10) c;

select is(pg_temp.error_of($$select api.requeue(array[(select id from job where name = 'dead1'), (select id from job where name = 'alive')])$$),
  jsonb_build_object('sqlstate', 'PT409', 'reason', 'not_dead', 'field', 'job_ids', 'status', 'queued',
                     'job_id', (select id from job where name = 'alive')),
  'a job that is not dead is PT409 not_dead');
select is(pg_temp.error_of($$select api.requeue(array[(select id from job where name = 'dead1'), -5])$$),
  '{"sqlstate": "PT404", "reason": "job_not_found", "field": "job_ids", "job_id": -5}'::jsonb,
  'an unknown job is PT404 job_not_found');
select throws_ok($$select api.requeue('{}')$$, 'PT400', null, 'an empty list is refused');
select is((select status from tests.all_jobs where id = (select id from job where name = 'dead1')), 'dead'::collab.job_status,
  'after a refused requeue nothing was requeued');

create temp table requeued as select * from api.requeue(array[(select id from job where name = 'dead1')]);
select results_eq($$select status, run_at, finished_at, attempt, max_attempts from requeued$$,
  $$values ('queued', now(), null::timestamptz, 1, 6)$$,
  'requeue: queued now, unfinished, with the queue''s 5 attempts on top of the one made');
select is((select last_error -> 'error' from requeued), '{"e": "boom"}'::jsonb, 'the last error is kept');
select results_eq($$select type::text from collab.job_events where job_id = (select id from job where name = 'dead1') order by id$$,
  $$values ('enqueued'), ('claimed'), ('dead'), ('requeued')$$, 'one requeued event follows the dead one');
select is((select attempt from api.claim((select id from worker), array['dlq'], 1)), 2, 'the requeued job runs again as attempt 2');

-- purge_dead
select throws_ok($$select api.purge_dead(older_than => interval '-1 day')$$, 'PT400', null, 'a negative older_than is refused');
select is(api.purge_dead(older_than => interval '1 hour'), 0::bigint, 'nothing has been dead for an hour');
select is(api.purge_dead('other'), 1::bigint, 'purge_dead of one queue deletes its dead jobs');
set local collab.clock_offset = '2 hours';
select is(api.purge_dead(older_than => interval '1 hour'), 1::bigint, 'two hours later the other dead job is old enough');
select is((select count(*) from tests.all_jobs where id in (select id from job where name in ('dead2', 'dead3'))), 0::bigint,
  'the purged jobs are gone');
select is((select count(*) from collab.job_events where job_id in (select id from job where name in ('dead2', 'dead3'))), 0::bigint,
  'and so are their events');

select * from finish();
ROLLBACK;
