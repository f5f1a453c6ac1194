-- The English lexemes of a text for search (stemmed, stop words dropped, with positions): the
-- to_tsvector of its code-aware form (collab.search_prepare). What collab.search_vector_terms
-- takes words from and collab.search_pair_terms word pairs: a document's fields
-- (collab.search_field_terms, collab.search_terms) and a query (collab.search_query_terms).
create or replace function collab.search_lexemes(txt text)
returns tsvector
language sql
immutable
parallel safe
as $$
  select pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig, collab.search_prepare(txt))
$$;
comment on function collab.search_lexemes(text) is
  'A text''s English lexemes for search: to_tsvector(''english'') of its code-aware form (collab.search_prepare).';
