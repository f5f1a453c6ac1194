-- The body of a document as search reads it: the text of an HTML page (a path ending in .html,
-- .htm or .xhtml: an artifact's name, a page's file) without its markup, every run of tags,
-- character references (&amp;, &#8212;) and white space made one space; any other body as
-- given. Its tag and attribute names (div, class, href, span) are not words of the page, and
-- they were most of its characters (70 % of python3.11-doc's HTML), so leaving them out makes
-- an HTML page cheaper to index, and its lead (collab.search_terms) its first words rather than
-- its <head>. The stored body, which highlights are cut from, is unchanged.
create or replace function collab.search_body(path text, body text)
returns text
language sql
immutable
parallel safe
as $$
  select case when path ~* '\.x?html?$'
              then pg_catalog.btrim(pg_catalog.regexp_replace(body, '(<[^>]*>|&#?[[:alnum:]]+;|[[:space:]])+', ' ', 'g'))
              else body end
$$;
comment on function collab.search_body(text, text) is
  'A document''s body as search reads it: an HTML page''s (path ending in .html, .htm, .xhtml) text without tags, character references and runs of white space; any other body as given.';
