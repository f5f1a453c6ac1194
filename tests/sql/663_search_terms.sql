-- Search (issue 16): the terms of documents and queries. Code-aware words
-- (collab.search_prepare), abbreviations expanded (collab.search_field_terms), and the BM25F
-- fields of collab.search_terms: title x 8, name (the title after its last ".") x 5, path x 1,
-- body x 1, lead (the body's first 600 characters, cut back to a whole word) x 1, and the lead's
-- word pairs (collab.search_pair_terms) x 0.05, which a query's own pairs meet
-- (collab.search_rank). And collab.search_rank_others, whose two plans give the same sums and
-- which only the definer runs.
BEGIN;
select plan(21);

select is(collab.search_prepare('os.path.join /usr/lib self._sections sectionName HTTPServer foo-bar a@b +1 <div>'),
  'os path join  usr lib self  sections section Name HTTP Server foo bar a b  1  div ',
  'search_prepare splits identifiers, paths, hyphens, e-mails, signs and tags into words');
select is(array(select term from collab.search_field_terms('sectionName buf') order by term),
  array['buf', 'buffer', 'name', 'section'], 'search_field_terms: split words, lexemes, an abbreviation and its long form');
select is((select frequency from collab.search_field_terms('cursor, cursors and a cursor') where term = 'cursor'),
  3::real, 'search_field_terms counts every occurrence');

select is((select frequency from collab.search_terms('Path.write_bytes', '', '') where term = 'write'), 13::real,
  'a word of the name counts in the title (8) and the name (5)');
select is((select frequency from collab.search_terms('Path.write_bytes', '', '') where term = 'path'), 8::real,
  'a word of the qualifier counts in the title only');
select is((select frequency from collab.search_terms('', 'lib/cursor.py', '') where term = 'cursor'), 1::real,
  'the path counts once');
select is((select frequency from collab.search_terms('', '', 'a short body about cursors') where term = 'cursor'), 2::real,
  'a short body is all lead: body and lead count');
select is((select frequency from collab.search_terms('', '', repeat('x ', 300) || 'zebra') where term = 'zebra'), 1::real,
  'a word after the first 600 characters counts in the body only');
select is((select frequency from collab.search_terms('', '', repeat('y', 598) || ' zebra') where term = 'zebra'), 1::real,
  'a word cut by the 600th character is left out of the lead, not cut in two');
select is((select count(*)::integer from collab.search_terms('', '', repeat('y', 598) || ' zebra') where term like 'ze%'), 1,
  'no stump of a cut word becomes a term');

-- Word pairs: two lexemes next to each other (stop words skipped), in order.
select is(array(select term || ':' || frequency
                  from collab.search_pair_terms(to_tsvector('english', collab.search_prepare('CREATE TABLE: define a new table; a new table')))
                 order by term),
  array['creat tabl:1', 'defin new:1', 'new tabl:2', 'tabl defin:1', 'tabl new:1'],
  'search_pair_terms: each two lexemes that follow each other, stop words skipped, with their frequencies');
select is((select frequency from collab.search_terms('', '', 'define a new table') where term = 'new tabl'), 0.05::real,
  'a pair of the lead counts 0.05');
select is((select count(*)::integer from collab.search_terms('Table.new_row', '', repeat('x ', 300) || 'new table') where term like '% %'
             and term not like 'x %'), 0,
  'no pairs from the title, nor after the lead');

-- collab.search_rank_others: lookups (few documents) and one range read (many) agree.
select api.index_documents('terms', (select jsonb_agg(jsonb_build_object('key', 'd' || i,
  'body', case when i % 2 = 0 then 'alpha beta' else 'alpha gamma gamma' end || repeat(' delta', i % 5)))
  from generate_series(1, 200) i));
select results_eq(
  $$select o.document_id, round(o.score::numeric, 9)
      from collab.search_collections c,
           collab.search_rank_others(c.workspace_id, 'terms', '{alpha,gamma}', '{1.5,2.0}', '{200,100}',
                                     array(select d.id from collab.search_documents d where d.key in ('d1', 'd2')),
                                     2.5, 0.9, c.total_length / c.document_count) o
     where c.name = 'terms' order by 1$$,
  $$select o.document_id, round(o.score::numeric, 9)
      from collab.search_collections c,
           collab.search_rank_others(c.workspace_id, 'terms', '{alpha,gamma}', '{1.5,2.0}', '{200,100}',
                                     array(select d.id from collab.search_documents d where d.collection = 'terms'),
                                     2.5, 0.9, c.total_length / c.document_count) o
     where c.name = 'terms' and o.document_id in (select d.id from collab.search_documents d where d.key in ('d1', 'd2'))
     order by 1$$,
  'search_rank_others: primary-key lookups and the range read give the same sums');

-- The pair bonus: two documents with the same words and the same length (as many pairs); the
-- query's words side by side, in the query's order, in the newer one's lead rank it first
-- (without that pair the two tie, and ties go to the older document).
select api.index_documents('pairs', '[{"key": "apart", "body": "alpha gamma beta delta"}]');
select api.index_documents('pairs', '[{"key": "adjacent", "body": "gamma alpha beta delta"}]');
select is(array(select key from api.search('pairs', 'alpha beta', highlights => false)),
  array['adjacent', 'apart'], 'the document with the query''s words next to each other ranks first');
select is(array(select key from api.search('pairs', 'beta alpha', highlights => false)),
  array['apart', 'adjacent'], 'in the other order neither has the pair: they tie and the older comes first');

-- An HTML page (by its path) is read without its markup (collab.search_body): no tag,
-- attribute or character-reference name becomes a term, its text does, and its lead is its
-- first words; a body of any other path keeps every word.
select is(collab.search_body('page.html', E'<p class="note">Hello &amp;\n  <b>world</b>&#8212;</p>'),
  'Hello world', 'search_body: an HTML page''s text, one space for each run of tags, references and white space');
select is(collab.search_body('notes.txt', '<p class="note">Hello</p>'), '<p class="note">Hello</p>',
  'search_body: any other body as given');
select is(array(select term from collab.search_terms('', 'guide.HTM', '<div class="intro"><a href="x">Vacuum</a> &amp; analyze</div>')
                 where term not like '% %' and term not in ('guid', 'htm') order by term),
  array['analyz', 'vacuum'], 'search_terms: an HTML page''s terms are its text''s (no div, class, href, amp)');
select ok((select count(*) from collab.search_terms('', 'guide.md', '<div class="intro">Vacuum</div>') where term in ('div', 'class')) = 2,
  'search_terms: markup in a body of another path stays words (a code sample, a Markdown page)');

select tests.tenancy_fixture();
select tests.authenticate_as(tests.id('viewer'), jsonb_build_object('workspace_id', tests.id('workspace_a')));
select is(tests.outcome($$select * from collab.search_rank_others(null, 'terms', '{alpha}', '{1}', '{1}', '{1}', 1, 1, 1)$$) ->> 'sqlstate',
  '42501', 'search_rank_others is internal: an API role may not call it');
reset role;
select set_config('request.jwt.claims', '', true);

select * from finish();
ROLLBACK;
