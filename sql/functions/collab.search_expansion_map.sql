-- collab.search_expansions as one JSON object {short: long}. Immutable and without arguments,
-- so the planner evaluates it once, when it plans a query, and collab.search_field_terms looks
-- a lexeme up in a constant (a binary search among the keys) instead of joining the list for
-- every text it is given.
create or replace function collab.search_expansion_map()
returns jsonb
language sql
immutable
parallel safe
as $$
  select pg_catalog.jsonb_object_agg(e.short, e.long) from collab.search_expansions() e
$$;
comment on function collab.search_expansion_map() is
  'The programming abbreviations of collab.search_expansions as one JSON object {short: long}, a constant for collab.search_field_terms.';
