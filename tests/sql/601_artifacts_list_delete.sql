-- list_artifacts pages newest first with an opaque cursor and filters by job, name prefix,
-- media type and period; delete_artifact removes an artifact, and its bytes with the last
-- artifact that has them (usage follows).
BEGIN;
select plan(14);
select tests.tenancy_fixture();

select tests.authenticate_as(tests.id('member'));
select api.put_artifact('logs/' || i || '.log', encode(convert_to('line ' || i, 'UTF8'), 'base64'), 'text/plain',
                        case when i <= 2 then tests.job('a', 'running') end)
  from generate_series(1, 4) i;
select api.put_artifact('data/result.json', encode('{}', 'base64'), 'application/json');

select tests.authenticate_as(tests.id('viewer'));
create temp table page1 as select (l.artifact).name, l.cursor from api.list_artifacts("limit" => 2) l;
create temp table page2 as select (l.artifact).name, l.cursor from api.list_artifacts("limit" => 2,
  after => (select cursor from page1 offset 1)) l;
select is(array(select name from page1), array['data/result.json', 'logs/4.log'], 'newest first');
select is(array(select name from page2), array['logs/3.log', 'logs/2.log'], 'the cursor gives the next page');
select is(array(select (l.artifact).name from api.list_artifacts(job_id => tests.job('a', 'running')) l),
          array['logs/2.log', 'logs/1.log'], 'filter by job');
select is((select count(*)::integer from api.list_artifacts(prefix => 'logs/')), 4, 'filter by name prefix');
select is(array(select (l.artifact).name from api.list_artifacts(media_type => 'application/json') l),
          array['data/result.json'], 'filter by media type');
select is((select count(*)::integer from api.list_artifacts(media_type => 'text/*')), 4, 'or by type/*');
select is((select count(*)::integer from api.list_artifacts(created_after => now() + interval '1 minute')), 0,
          'filter by period');
select is(tests.outcome($$select * from api.list_artifacts(after => 'garbage')$$) ->> 'field', 'after', 'a bad cursor is PT400');
select is(tests.outcome($$select * from api.list_artifacts("limit" => 0)$$) - 'sqlstate',
          '{"reason": "invalid_input", "field": "limit"}'::jsonb, 'limit must be 1-1000');

select tests.authenticate_as(tests.id('outsider'));
select is((select count(*)::integer from api.list_artifacts()), 0, 'another workspace sees none of them');

select tests.authenticate_as(tests.id('member'));
create temp table twin as select * from api.put_artifact('copy.json', encode('{}', 'base64'), 'application/json');
select api.delete_artifact((select id from twin));
reset role;
select is((select count(*)::integer from collab.artifact_blobs where workspace_id = tests.id('workspace_a')
            and sha256 = sha256('{}')), 1, 'deleting one of two artifacts of the same bytes keeps the bytes');
select tests.authenticate_as(tests.id('member'));
select api.delete_artifact((l.artifact).id) from api.list_artifacts(prefix => 'data/') l;
reset role;
select is((select count(*)::integer from collab.artifact_blobs where workspace_id = tests.id('workspace_a')
            and sha256 = sha256('{}')), 0, 'deleting the last one removes the bytes');
select is((select stored_bytes from collab.artifact_usage where workspace_id = tests.id('workspace_a')),
          (select sum(size) from collab.artifact_blobs where workspace_id = tests.id('workspace_a'))::bigint,
          'usage is the sum of the remaining bytes');
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome($$select api.delete_artifact(-1)$$),
          '{"sqlstate": "PT404", "reason": "artifact_not_found", "field": "id"}'::jsonb, 'deleting an unknown artifact is PT404');

select * from finish();
ROLLBACK;
