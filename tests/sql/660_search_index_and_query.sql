-- Search (issue 16): api.index_documents indexes a batch in the caller's transaction, api.search
-- ranks by BM25 from the statistics kept in tables, with filters and highlights; replacing a
-- key keeps the statistics exact; api.drop_collection removes everything.
BEGIN;
select plan(26);

select is(api.index_documents('code', $$[
  {"key": "configparser.options", "title": "RawConfigParser.options", "path": "configparser.py",
   "body": "def options(self, section):\n    opts = self._sections[section].copy()\n    return list(opts.keys())",
   "metadata": {"lang": "python"}},
  {"key": "io.write", "title": "FileIO.write", "path": "io/_pyio.py",
   "body": "def write(self, data):\n    return os.write(self._fd, data)", "metadata": {"lang": "python"}},
  {"key": "notes.cursor", "title": "", "path": "notes/cursor.md",
   "body": "MOVE repositions a cursor without retrieving any data.", "metadata": {"lang": "en"}}
]$$::jsonb),
  '{"collection": "code", "indexed": 3, "replaced": 0, "document_count": 3}'::jsonb,
  'index_documents indexes the batch and creates the collection');

select is((select key from api.search('code', 'Return a list of option names for the given section name.') where rank = 1),
  'configparser.options', 'searchable in the transaction that indexed it; identifiers split (self._sections, opts)');
select is((select key from api.search('code', 'Write bytes data to the file descriptor') where rank = 1),
  'io.write', 'an abbreviation (fd) meets the word it stands for');
select is((select key from api.search('code', 'move a cursor') where rank = 1),
  'notes.cursor', 'prose is found too');
select is((select count(*)::integer from api.search('code', 'zebra quagga')), 0, 'no term matches: no hit');
select ok((select highlight from api.search('code', 'move a cursor') where rank = 1) like '%<mark>cursor</mark>%',
  'the highlight marks the matched words');
select is((select highlight from api.search('code', 'move a cursor', highlights => false) where rank = 1), null,
  'highlights => false returns none');

-- BM25 from the stored statistics, recomputed by hand for a one-term query.
select is(
  (select round(score::numeric, 9) from api.search('code', 'cursor')),
  (select round((ln(1 + (3 - 1 + 0.5) / (1 + 0.5)) * p.frequency * 3.5
                 / (p.frequency + 2.5 * (1 - 0.75 + 0.75 * p.length / (c.total_length / c.document_count))))::numeric, 9)
     from collab.search_postings p
     join collab.search_collections c on c.workspace_id = p.workspace_id and c.name = p.collection
    where p.collection = 'code' and p.term = 'cursor'),
  'the score is BM25 (k1 2.5, b 0.75) with N, df, tf and the mean length from the tables');

-- Filters.
select is(array(select key from api.search('code', 'return data list', 10, '{"path_prefix": "io/"}')),
  array['io.write'], 'filters.path_prefix');
select is(array(select key from api.search('code', 'cursor data', 10, '{"metadata": {"lang": "python"}}')),
  array['io.write'], 'filters.metadata (containment)');
select is(array(select key from api.search('code', 'return data list', 10, '{"keys": ["configparser.options"]}')),
  array['configparser.options'], 'filters.keys');
select is((select count(*)::integer from api.search('code', 'return', 1)), 1, 'k bounds the hits');

-- Replacing a key: the old terms go, the statistics stay exact.
select is(api.index_documents('code', '[{"key": "notes.cursor", "body": "FETCH retrieves rows using a previously created cursor."}]') ->> 'replaced',
  '1', 'indexing a key again replaces the document');
select is((select count(*)::integer from api.search('code', 'repositions')), 0, 'the replaced text is no longer found');
select is((select key from api.search('code', 'retrieve rows') where rank = 1), 'notes.cursor', 'the new text is');
select is(
  (select count(*)::integer from collab.search_vocabulary v
    where v.collection = 'code'
      and v.document_frequency <> (select count(*) from collab.search_postings p
                                    where p.workspace_id = v.workspace_id and p.collection = v.collection and p.term = v.term)),
  0, 'every document frequency equals its number of postings');
select is(
  array[(select count(*) > 0 from collab.search_postings where collection = 'code' and strpos(term, ' ') > 0),
        (select count(*) = 0 from collab.search_vocabulary where collection = 'code' and strpos(term, ' ') > 0)],
  array[true, true], 'word pairs have postings and no vocabulary row (collab.search_rank counts their postings)');
select is(
  (select count(distinct p.term)::integer from collab.search_postings p
    where p.collection = 'code' and strpos(p.term, ' ') = 0
      and not exists (select 1 from collab.search_vocabulary v
                       where v.workspace_id = p.workspace_id and v.collection = p.collection and v.term = p.term)),
  0, 'every word with postings is in the vocabulary');
select results_eq(
  $$select document_count, round(total_length::numeric, 3) from collab.search_collections where name = 'code'$$,
  $$select count(*), round(sum(length)::numeric, 3) from collab.search_documents where collection = 'code'$$,
  'document_count and total_length equal the documents'' count and summed lengths');
select is(api.index_documents('code', '[{"key": "k", "body": "first"}, {"key": "k", "body": "second"}]') ->> 'indexed',
  '1', 'a key repeated in one batch: the last element wins');

-- Rolled back with its transaction.
savepoint before_more;
select api.index_documents('code', '[{"key": "tmp", "body": "ephemeral xylophone"}]');
rollback to savepoint before_more;
select is((select count(*)::integer from api.search('code', 'xylophone')), 0, 'a rolled-back indexing leaves nothing');

-- Another workspace sees nothing of it.
select tests.tenancy_fixture();
select tests.authenticate_as(tests.id('outsider'), jsonb_build_object('workspace_id', tests.id('workspace_b')));
select is(tests.outcome($$select * from api.search('code', 'cursor')$$),
  '{"sqlstate": "PT404", "reason": "collection_not_found", "field": "collection"}'::jsonb,
  'a collection of another workspace is not found');
select tests.authenticate_as(tests.id('viewer'), jsonb_build_object('workspace_id', tests.id('workspace_a')));
select is(tests.outcome($$select api.index_documents('mine', '[{"key": "a"}]')$$) ->> 'reason', 'forbidden',
  'a viewer cannot index (member role)');
reset role;
select set_config('request.jwt.claims', '', true);

-- Dropping the collection.
select is(api.drop_collection('code'), 4::bigint, 'drop_collection returns the number of documents');
select is((select count(*)::integer from collab.search_postings where collection = 'code')
          + (select count(*)::integer from collab.search_vocabulary where collection = 'code')
          + (select count(*)::integer from collab.search_documents where collection = 'code'), 0,
  'its documents, postings and vocabulary are gone');
select is(tests.outcome($$select api.drop_collection('code')$$),
  '{"sqlstate": "PT404", "reason": "collection_not_found", "field": "collection"}'::jsonb,
  'dropping it again: PT404 collection_not_found');

select * from finish();
ROLLBACK;
