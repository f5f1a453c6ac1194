-- Search (issue 16): every bad argument of api.index_documents and api.search is PT400
-- invalid_input naming the field (and, in a batch, the index); nothing is written.
BEGIN;
select plan(16);


select is(tests.outcome($$select api.index_documents('bad name!', '[]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "collection"}'::jsonb, 'a collection name outside the name rule');
select is(tests.outcome($$select api.index_documents('c', '{}')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "documents"}'::jsonb, 'documents not an array');
select is(tests.outcome(format('select api.index_documents(%L, %L)', 'c',
            (select jsonb_agg(jsonb_build_object('key', i::text)) from generate_series(1, 1001) i))),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "documents"}'::jsonb, 'more than 1000 documents');
select is(tests.outcome($$select api.index_documents('c', '[{"key": "a"}, 7]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "documents", "index": 1}'::jsonb, 'an element that is no object, by index');
select is(tests.outcome($$select api.index_documents('c', '[{"key": "a", "bdy": "typo"}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "documents", "index": 0}'::jsonb, 'an unknown key');
select is(tests.outcome($$select api.index_documents('c', '[{"key": ""}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "key", "index": 0}'::jsonb, 'an empty key');
select is(tests.outcome($$select api.index_documents('c', '[{"key": "a", "title": 5}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "title", "index": 0}'::jsonb, 'a title that is no string');
select is(tests.outcome($$select api.index_documents('c', '[{"key": "a", "path": ["x"]}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "path", "index": 0}'::jsonb, 'a path that is no string');
select is(tests.outcome(format('select api.index_documents(%L, %L)', 'c',
            jsonb_build_array(jsonb_build_object('key', 'a'), jsonb_build_object('key', 'b', 'body', repeat('x', 524289))))),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "body", "index": 1}'::jsonb, 'a body over 512 KiB');
select is(tests.outcome($$select api.index_documents('c', '[{"key": "a", "metadata": [1]}]')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "metadata", "index": 0}'::jsonb, 'metadata that is no object');
select is((select count(*)::integer from collab.search_collections where name = 'c'), 0, 'a refused batch wrote nothing');

select api.index_documents('c', '[{"key": "a", "body": "some text"}]');
select is(tests.outcome($$select * from api.search('c', '')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "query"}'::jsonb, 'an empty query');
select is(tests.outcome($$select * from api.search('c', 'text', 0)$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "k"}'::jsonb, 'k below 1');
select is(tests.outcome($$select * from api.search('c', 'text', 10, '{"path": "x"}')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "filters"}'::jsonb, 'an unknown filter');
select is(tests.outcome($$select * from api.search('c', 'text', 10, '{"keys": [1]}')$$),
  '{"sqlstate": "PT400", "reason": "invalid_input", "field": "filters"}'::jsonb, 'filters.keys not strings');
select is(tests.outcome($$select * from api.search('nothing-here', 'text')$$),
  '{"sqlstate": "PT404", "reason": "collection_not_found", "field": "collection"}'::jsonb, 'an unknown collection: PT404');

select * from finish();
ROLLBACK;
