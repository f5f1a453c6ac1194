-- The terms of a text already turned into English lexemes (the to_tsvector of its code-aware
-- form, collab.search_prepare): each lexeme with its frequency, plus, for a programming
-- abbreviation (collab.search_expansions: buf, dir, len, ...), as often, the lexemes of the
-- words it stands for. collab.search_field_terms gives it a text's vector; collab.search_terms
-- and collab.search_query_terms give it the vector they also take word pairs from
-- (collab.search_pair_terms), so a text is parsed once. The abbreviations are looked up in
-- collab.search_expansion_map, a constant of the plan: a join with the list cost a hash table
-- per call, a third of the call for a short text.
create or replace function collab.search_vector_terms(lexemes tsvector)
returns table (term text, frequency real)
language sql
immutable
parallel safe
as $$
  with base as (
    select t.lexeme as term, pg_catalog.cardinality(t.positions)::real as frequency
      from pg_catalog.unnest(lexemes) t
  )
  select x.term, sum(x.frequency)::real
    from (select b.term, b.frequency from base b
          union all
          select l.lexeme, b.frequency
            from base b
           cross join lateral pg_catalog.unnest(pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig,
                                                                    collab.search_expansion_map() ->> b.term)) l
           where collab.search_expansion_map() ? b.term) x
   group by x.term
$$;
comment on function collab.search_vector_terms(tsvector) is
  'The search terms of a text''s English lexemes (its to_tsvector): the lexemes with their frequencies, programming abbreviations expanded (collab.search_expansion_map).';
