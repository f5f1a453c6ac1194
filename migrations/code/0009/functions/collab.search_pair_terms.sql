-- The word pairs of a text (a document's lead, or a query), from its English lexemes (the
-- to_tsvector of its code-aware form, collab.search_prepare): each two lexemes that follow
-- each other in it (stop words between them skipped), as one term 'first second', with how
-- often the pair occurs. Lexemes hold no space, so a pair term never equals a word term.
-- collab.search_terms adds the pairs of a document's lead as a field of their own, and
-- collab.search_rank adds the query's pairs to its terms: a query whose words stand next to
-- each other in a page's lead, as they do in the query, scores the pair too (a proximity
-- bonus kept in the same postings).
create or replace function collab.search_pair_terms(lexemes tsvector)
returns table (term text, frequency real)
language sql
immutable
parallel safe
as $$
  select x.pair, count(*)::real
    from (select w.lexeme || ' ' || pg_catalog.lead(w.lexeme) over (order by w.pos) as pair
            from pg_catalog.unnest(lexemes) t
           cross join lateral (select t.lexeme, p.pos from pg_catalog.unnest(t.positions) p(pos)) w) x
   where x.pair is not null
   group by x.pair
$$;
comment on function collab.search_pair_terms(tsvector) is
  'The word pairs of a text''s English lexemes (its to_tsvector): each two lexemes that follow each other (stop words skipped) as one term ''first second'', with their frequencies; the proximity terms of search (issue 16).';
