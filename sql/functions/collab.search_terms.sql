-- The terms of a document or query: English lexemes (stemmed, stop words dropped) of the
-- code-aware text (collab.search_prepare) of each field, with field-weighted frequencies
-- (BM25F): a term in the title (a page's or function's name) counts 5 times (a weight chosen
-- on dev queries only, bench/search/tune.py), in the path or the body once. A programming
-- abbreviation (collab.search_expansions: buf, dir, len, ...) also counts, as
-- often, for the lexemes of the words it stands for.
create or replace function collab.search_terms(title text, path text, body text)
returns table (term text, frequency real)
language sql
immutable
parallel safe
as $$
  with base as (
    select t.lexeme as term, sum(f.weight * pg_catalog.cardinality(t.positions))::real as frequency
      from (values (title, 5), (path, 1), (body, 1)) f(txt, weight)
     cross join lateral pg_catalog.unnest(pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig,
                                                                 collab.search_prepare(f.txt))) t
     where f.txt is not null and f.txt <> ''
     group by t.lexeme
  )
  select x.term, sum(x.frequency)::real
    from (select b.term, b.frequency from base b
          union all
          select l.lexeme, b.frequency
            from base b
            join collab.search_expansions() e on e.short = b.term
           cross join lateral pg_catalog.unnest(pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig, e.long)) l) x
   group by x.term
$$;
comment on function collab.search_terms(text, text, text) is
  'The search terms of (title, path, body): English lexemes of the code-aware text with BM25F field weights (title 5, path 1, body 1) and programming abbreviations expanded (collab.search_expansions).';
