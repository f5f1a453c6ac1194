-- Code-aware text for the English text-search configuration: identifiers split into words
-- (camelCase and HTTPServer at case changes; snake_case, dotted.names, paths/like/this,
-- hyphen-ated and host:port at their punctuation). Only the characters that make the
-- text-search parser keep a compound token (a host, a file path, a URL, an e-mail, a
-- hyphenated word, a signed number, an XML tag or entity) become spaces: the parser treats
-- every other punctuation as a separator anyway. Plain replace() calls, not one regular
-- expression over every non-alphanumeric character: the same terms at a quarter of the cost
-- (docs/bench.md). The same function prepares documents and queries, so "sectionName" and
-- "section name" meet.
create or replace function collab.search_prepare(input text)
returns text
language sql
immutable
parallel safe
as $$
  select pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
         pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
         pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.regexp_replace(
             pg_catalog.regexp_replace(coalesce(input, ''), '([[:lower:][:digit:]])([[:upper:]])', '\1 \2', 'g'),
             '([[:upper:]]+)([[:upper:]][[:lower:]])', '\1 \2', 'g'),
           '.', ' '), '/', ' '), '@', ' '), '-', ' '), ':', ' '), '<', ' '), '>', ' '), '&', ' '),
           '\', ' '), '_', ' '), '+', ' ')
$$;
comment on function collab.search_prepare(text) is
  'Code-aware tokenization for search (issue 16): splits identifiers (camelCase, HTTPServer, snake_case, dotted names, paths) into words and blanks the punctuation that makes the text-search parser keep compound tokens.';
