-- The terms of a document: the terms of each of its fields (collab.search_field_terms) with
-- field-weighted frequencies (BM25F), summed, and the word pairs of its lead
-- (collab.search_pair_terms), weighted as a field of their own. The fields and their weights,
-- chosen on dev queries only (bench/search/tune.py, docs/search.md "Tuning protocol"):
--   title  x 8     as given (a page's or a function's name)
--   name   x 5     the title after its last "." (the own name of a qualified name such as
--                  Path.write_bytes; the whole title when it has no ".")
--   path   x 1     as given
--   body   x 1     as given
--   lead   x 1     the body's first 600 characters, cut back to a whole word (a heading, a
--                  synopsis, a signature)
--   pairs  x 0.05  the lead's word pairs ('first second', two lexemes next to each other):
--                  a query's own pairs (collab.search_rank) meet them, so a document whose lead
--                  has the query's words side by side scores a little more
-- The lead is parsed once for its words and its pairs; a body of at most 600 characters is its
-- own lead, its words taken once and counted twice. The body and the lead are read through
-- collab.search_body: an HTML page's text without its markup.
create or replace function collab.search_terms(title text, path text, body text)
returns table (term text, frequency real)
language sql
immutable
parallel safe
as $$
  with src(body) as (
    select collab.search_body(path, body)
  ), lead(lexemes, whole) as (
    select collab.search_lexemes(
             case when pg_catalog.length(src.body) <= 600 then src.body
                  else pg_catalog.regexp_replace(pg_catalog.left(src.body, 601), '\S*$', '') end),
           pg_catalog.length(src.body) <= 600
      from src
  )
  select x.term, sum(x.frequency)::real
    from (select t.term, f.weight * t.frequency as frequency
            from (values (title, 8.0),
                         (pg_catalog.regexp_replace(title, '^.*\.', ''), 5.0),
                         (path, 1.0)) f(txt, weight)
           cross join lateral collab.search_field_terms(f.txt) t
           where f.txt is not null and f.txt <> ''
          union all
          select t.term, t.frequency
            from lead, src
           cross join lateral collab.search_field_terms(src.body) t
           where not lead.whole
          union all
          select t.term, case when lead.whole then 2.0 else 1.0 end * t.frequency
            from lead
           cross join lateral collab.search_vector_terms(lead.lexemes) t
          union all
          select p.term, 0.05 * p.frequency
            from lead
           cross join lateral collab.search_pair_terms(lead.lexemes) p) x
   group by x.term
$$;
comment on function collab.search_terms(text, text, text) is
  'The search terms of (title, path, body): collab.search_field_terms of each field with BM25F field weights (title 8, name 5, path 1, body 1, lead 1) and the lead''s word pairs (collab.search_pair_terms, weight 0.05); an HTML page''s body without its markup (collab.search_body).';
