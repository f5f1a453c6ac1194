-- Search (issue 16): text artifacts are indexed into the collection "artifacts" in the
-- transaction that stores them, binary ones are not, and a deleted artifact leaves the index.
BEGIN;
select plan(6);

create temp table notes as
  select (api.put_artifact('reports/2026/summary.md',
                           encode(convert_to('The migration finished: fourteen tables were vacuumed.', 'UTF8'), 'base64'),
                           'text/markdown; charset=utf-8', metadata => '{"team": "ops"}')).id as id;
select api.put_artifact('data/blob.bin', encode('\xfffe00ff'::bytea, 'base64'), 'application/octet-stream');
select api.put_artifact('data/not-utf8.txt', encode('\xfffe00ff'::bytea, 'base64'), 'text/plain');

select is((select key from api.search('artifacts', 'which tables were vacuumed') where rank = 1),
  'artifact:' || (select id from notes), 'a text artifact is searchable in the transaction that stored it');
select results_eq(
  $$select title, path, metadata ->> 'team', metadata ->> 'media_type' from api.search('artifacts', 'vacuumed')$$,
  $$values ('summary.md', 'reports/2026/summary.md', 'ops', 'text/markdown; charset=utf-8')$$,
  'title is the last segment of the name, path the name, metadata the artifact''s with its media type');
select is((select count(*)::integer from collab.search_documents where collection = 'artifacts'), 1,
  'binary artifacts and text that is not UTF-8 are not indexed');
select is((select count(*)::integer from api.search('artifacts', 'vacuumed', 10, '{"metadata": {"team": "ops"}}')), 1,
  'filters apply to artifact metadata');

select api.delete_artifact((select id from notes));
select is((select count(*)::integer from api.search('artifacts', 'vacuumed')), 0, 'a deleted artifact leaves the index');
select is((select document_count from collab.search_collections where name = 'artifacts'), 0::bigint,
  'and the collection''s statistics');

select * from finish();
ROLLBACK;
