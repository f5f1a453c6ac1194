-- Code-aware text for the English text-search configuration: identifiers split into words
-- (camelCase and HTTPServer at case changes; snake_case, dotted.names and paths/like/this at
-- their punctuation), every other non-alphanumeric character a space. The same function
-- prepares documents and queries, so "sectionName" and "section name" meet.
create or replace function collab.search_prepare(input text)
returns text
language sql
immutable
parallel safe
as $$
  select pg_catalog.regexp_replace(
           pg_catalog.regexp_replace(
             pg_catalog.regexp_replace(coalesce(input, ''), '([[:lower:][:digit:]])([[:upper:]])', '\1 \2', 'g'),
             '([[:upper:]]+)([[:upper:]][[:lower:]])', '\1 \2', 'g'),
           '[^[:alnum:]]+', ' ', 'g')
$$;
comment on function collab.search_prepare(text) is
  'Code-aware tokenization for search (issue 16): splits identifiers (camelCase, HTTPServer, snake_case, dotted names, paths) into words and blanks other punctuation.';
