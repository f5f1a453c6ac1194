-- The terms of a query: its words (collab.search_vector_terms: lexemes, abbreviations
-- expanded) and its word pairs (collab.search_pair_terms: two words next to each other), which
-- meet the pairs of the documents' leads (collab.search_terms), from one parse of its text.
-- collab.search_rank scores them; a pair term holds a space, so it never equals a word.
create or replace function collab.search_query_terms(query text)
returns table (term text, frequency real)
language sql
immutable
parallel safe
as $$
  select t.term, t.frequency
    from collab.search_lexemes(query) q(lexemes)
   cross join lateral (select w.term, w.frequency from collab.search_vector_terms(q.lexemes) w
                       union all
                       select p.term, p.frequency from collab.search_pair_terms(q.lexemes) p) t
$$;
comment on function collab.search_query_terms(text) is
  'The terms of a search query: its words (collab.search_vector_terms) and its word pairs (collab.search_pair_terms), from one parse.';
