-- The terms of one text (a field of a document, or a query), unweighted: its English lexemes
-- (collab.search_lexemes: stemmed, stop words dropped, of its code-aware form) with their
-- frequencies, plus, for a programming abbreviation (collab.search_expansions: buf, dir, len,
-- ...), as often, the lexemes of the words it stands for (collab.search_vector_terms).
-- collab.search_terms weights the fields of a document with it; api.search marks a query's
-- terms with it.
create or replace function collab.search_field_terms(txt text)
returns table (term text, frequency real)
language sql
immutable
parallel safe
as $$
  select t.term, t.frequency from collab.search_vector_terms(collab.search_lexemes(txt)) t
$$;
comment on function collab.search_field_terms(text) is
  'The search terms of one text (a field or a query), unweighted: English lexemes of the code-aware text with their frequencies, programming abbreviations expanded (collab.search_expansions).';
