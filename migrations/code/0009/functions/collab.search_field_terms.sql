-- The terms of one text (a field of a document, or a query), unweighted: the English lexemes
-- (stemmed, stop words dropped) of its code-aware form (collab.search_prepare) with their
-- frequencies, plus, for a programming abbreviation (collab.search_expansions: buf, dir, len,
-- ...), as often, the lexemes of the words it stands for. collab.search_terms weights the
-- fields of a document with it; collab.search_rank and api.search take a query's terms from it.
create or replace function collab.search_field_terms(txt text)
returns table (term text, frequency real)
language sql
immutable
parallel safe
as $$
  with base as (
    select t.lexeme as term, pg_catalog.cardinality(t.positions)::real as frequency
      from pg_catalog.unnest(pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig,
                                                    collab.search_prepare(txt))) t
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
comment on function collab.search_field_terms(text) is
  'The search terms of one text (a field or a query), unweighted: English lexemes of the code-aware text with their frequencies, programming abbreviations expanded (collab.search_expansions).';
