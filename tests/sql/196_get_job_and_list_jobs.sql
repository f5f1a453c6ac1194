-- get_job returns a job with its whole history; list_jobs pages newest first with an
-- opaque cursor and refuses bad arguments with PT400.
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

create temp table worker as select api.register_executor('worker-1', array['list']) as id;
create temp table job as select * from api.enqueue('list', 'a');
select api.fail(c.id, c.lease_token, '{"why": "flaky"}', retry_in => interval '0') from api.claim((select id from worker), array['list'], 1) c;

create temp table got as select api.get_job((select id from job)) as j;
select is((select j ->> 'status' from got), 'queued', 'get_job returns the job');
select is((select j -> 'last_error' -> 'error' from got), '{"why": "flaky"}'::jsonb, 'with its last error');
select is((select j -> 'attempt' from got), '1'::jsonb, 'and its attempts');
select is((select array_agg(e ->> 'type') from got, jsonb_array_elements(j -> 'events') e), array['enqueued', 'claimed', 'retry_scheduled'],
  'and its events in order');
select ok(not (select j ? 'duplicate' from got), 'without the duplicate flag');
select is(pg_temp.error_of($$select api.get_job(-1)$$),
  '{"sqlstate": "PT404", "reason": "job_not_found", "field": "job_id"}'::jsonb, 'an unknown job is PT404');

-- list_jobs
select api.enqueue('list', 'b') from generate_series(1, 4);
create temp table page1 as select (l.job).id, l.cursor from api.list_jobs(queue => 'list', "limit" => 2) l;
create temp table page2 as select (l.job).id, l.cursor from api.list_jobs(queue => 'list', "limit" => 2,
  after => (select cursor from page1 order by id limit 1)) l;
create temp table page3 as select (l.job).id, l.cursor from api.list_jobs(queue => 'list', "limit" => 2,
  after => (select cursor from page2 order by id limit 1)) l;
select results_eq($$select id from page1 union all select id from page2 union all select id from page3$$,
  $$select id from tests.all_jobs where queue = 'list' order by created_at desc, id desc$$,
  'following the cursor pages through every job once, newest first');
select is((select count(*) from page3), 1::bigint, 'the last page holds the rest');
select is((select count(*) from api.list_jobs(status => 'queued', type => 'a')), 1::bigint, 'filters by status and type');
select is((select count(*) from api.list_jobs(queue => 'list', executor_id => (select id from worker))), 1::bigint, 'filters by executor');

select is(pg_temp.error_of($$select api.list_jobs(after => 'not-a-cursor')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "after"}'::jsonb, 'a bad cursor is PT400 on field after');
select throws_ok($$select api.list_jobs(after => translate(encode(convert_to('yesterday-ish|x', 'UTF8'), 'base64'), '+/', '-_'))$$,
  'PT400', null, 'a well-encoded cursor with bad content is PT400 too');
select throws_ok($$select api.list_jobs("limit" => 0)$$, 'PT400', null, 'limit 0 is refused');
select throws_ok($$select api.list_jobs("limit" => 1001)$$, 'PT400', null, 'limit 1001 is refused');
select is(pg_temp.error_of($$select api.list_jobs(status => 'done')$$) ->> 'field', 'status', 'an unknown status is refused');

select * from finish();
ROLLBACK;
