-- The terms of a document: the terms of each of its fields (collab.search_field_terms) with
-- field-weighted frequencies (BM25F), summed. The fields and their weights, chosen on dev
-- queries only (bench/search/tune.py, docs/search.md "Tuning protocol"):
--   title  x 8  as given (a page's or a function's name)
--   name   x 5  the title after its last "." (the own name of a qualified name such as
--               Path.write_bytes; the whole title when it has no ".")
--   path   x 1  as given
--   body   x 1  as given
--   lead   x 1  the body's first 300 characters, cut back to a whole word (a heading, a
--               synopsis, a signature)
create or replace function collab.search_terms(title text, path text, body text)
returns table (term text, frequency real)
language sql
immutable
parallel safe
as $$
  select t.term, sum(f.weight * t.frequency)::real
    from (values (title, 8),
                 (pg_catalog.regexp_replace(title, '^.*\.', ''), 5),
                 (path, 1),
                 (body, 1),
                 (case when pg_catalog.length(body) <= 300 then body
                       else pg_catalog.regexp_replace(pg_catalog.left(body, 301), '\S*$', '') end, 1)
         ) f(txt, weight)
   cross join lateral collab.search_field_terms(f.txt) t
   where f.weight > 0 and f.txt is not null and f.txt <> ''
   group by t.term
$$;
comment on function collab.search_terms(text, text, text) is
  'The search terms of (title, path, body): collab.search_field_terms of each field with BM25F field weights (title 8, name 5, path 1, body 1, lead 1).';
