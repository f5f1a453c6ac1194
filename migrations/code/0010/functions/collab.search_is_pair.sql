-- Whether a search term is a word pair ('first second', collab.search_pair_terms) rather than a
-- word: lexemes hold no space, a pair holds one. collab.search_vocabulary keeps the document
-- frequencies of words only; a pair's is the length of its postings list, counted by
-- collab.search_rank (revision 0010). collab.search_index, collab.search_drop_documents and
-- collab.search_rank tell the two apart with it.
create or replace function collab.search_is_pair(term text)
returns boolean
language sql
immutable
parallel safe
as $$
  select pg_catalog.strpos(term, ' ') > 0
$$;
comment on function collab.search_is_pair(text) is
  'Whether a search term is a word pair (holds a space, collab.search_pair_terms) rather than a word.';
