-- api.put_artifact stores bytes once per workspace and sha256 and the metadata as a new
-- artifact; a job's artifact adds an artifact_created event to the job's stream; get_artifact
-- returns it; bad input is PT400 naming the field, a viewer cannot put, an unknown job is
-- PT404, and the workspace's quotas are PT413 artifact_too_large / storage_quota_exceeded.
BEGIN;
select plan(22);
select tests.tenancy_fixture();

select tests.authenticate_as(tests.id('member'));
create temp table a1 as select * from api.put_artifact('reports/summary.md', encode('# hello', 'base64'),
  'text/markdown', tests.job('a', 'running'), '{"lang": "en"}');
select is((select name from a1), 'reports/summary.md', 'put_artifact returns the artifact');
select is((select sha256 from a1), encode(sha256('# hello'), 'hex'), 'with the sha256 of its bytes');
select is((select size from a1), 7::bigint, 'and its size');
select is((select created_by from a1), tests.id('member'), 'created_by is the caller');
create temp table a2 as select * from api.put_artifact('copy.md', encode('# hello', 'base64'), 'text/markdown');
reset role;
select is((select count(*)::integer from collab.artifact_blobs where workspace_id = tests.id('workspace_a')), 1,
          'the same bytes twice are stored once');
select is((select stored_bytes from collab.artifact_usage where workspace_id = tests.id('workspace_a')), 7::bigint,
          'and counted once in the usage');
select is((select data ->> 'name' from collab.job_events where job_id = tests.job('a', 'running') and type = 'artifact_created'),
          'reports/summary.md', 'the job got an artifact_created event');
select is((select count(*)::integer from collab.job_events where type = 'artifact_created'), 1,
          'and an artifact without a job none');

select tests.authenticate_as(tests.id('viewer'));
select is((api.get_artifact((select id from a1))).metadata, '{"lang": "en"}'::jsonb, 'a viewer reads it with get_artifact');
select is(tests.outcome(format('select api.get_artifact(%s)', (select id from a1) + 1000)),
          '{"sqlstate": "PT404", "reason": "artifact_not_found", "field": "id"}'::jsonb, 'an unknown id is PT404');
select is(tests.outcome($$select api.put_artifact('x.txt', 'eA==')$$) - 'role' - 'required_role',
          '{"sqlstate": "PT403", "reason": "forbidden", "field": null}'::jsonb, 'a viewer cannot put');

select tests.authenticate_as(tests.id('outsider'));
select is(tests.outcome(format('select api.get_artifact(%s)', (select id from a1))) ->> 'reason',
          'artifact_not_found', 'another workspace''s artifact is not found');
select is(tests.outcome(format($$select api.put_artifact('x.txt', 'eA==', 'text/plain', %s)$$, tests.job('a', 'queued'))),
          '{"sqlstate": "PT404", "reason": "job_not_found", "field": "job_id"}'::jsonb,
          'nor can anyone attach an artifact to another workspace''s job');

select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.put_artifact('../etc/passwd', 'eA==')$$) - 'sqlstate',
          '{"reason": "invalid_input", "field": "name"}'::jsonb, 'a .. segment is refused');
select is(tests.outcome($$select api.put_artifact('a?b', 'eA==')$$) ->> 'field', 'name', 'so is a ? in a name');
select is(tests.outcome($$select api.put_artifact('a.txt', 'eA==', 'not a type')$$) ->> 'field', 'media_type',
          'a malformed media type is refused');
select is(tests.outcome($$select api.put_artifact('a.txt', '!!!not base64')$$) - 'sqlstate',
          '{"reason": "invalid_input", "field": "data"}'::jsonb, 'data must be base64');
select is(tests.outcome($$select api.put_artifact('a.txt', 'eA==', 'text/plain', null, '[1]')$$) ->> 'field', 'metadata',
          'metadata must be an object');

reset role;
insert into collab.artifact_usage (workspace_id, max_artifact_bytes, max_stored_bytes)
values (tests.id('workspace_b'), 4, 10);
select tests.authenticate_as(tests.id('outsider'));
select is(tests.outcome($$select api.put_artifact('big.bin', encode('12345', 'base64'))$$),
          '{"sqlstate": "PT413", "reason": "artifact_too_large", "field": "data", "limit": 4, "size": 5}'::jsonb,
          'an artifact over max_artifact_bytes is PT413 artifact_too_large');
select is(tests.outcome($$select api.put_artifact('one.bin', encode('1234', 'base64'))$$) ->> 'sqlstate', 'ok', 'one under it passes');
select is(tests.outcome($$select api.put_artifact('two.bin', encode('5678', 'base64'))$$) ->> 'sqlstate', 'ok', 'two fill 8 of 10 bytes');
select is(tests.outcome($$select api.put_artifact('three.bin', encode('9abc', 'base64'))$$),
          '{"sqlstate": "PT413", "reason": "storage_quota_exceeded", "field": "data", "limit": 10, "stored": 8}'::jsonb,
          'a third is over max_stored_bytes: PT413 storage_quota_exceeded');

select * from finish();
ROLLBACK;
