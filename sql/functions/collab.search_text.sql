-- The text of a blob for search: its bytes as UTF-8, or null when they are not valid UTF-8
-- (or hold a NUL), so a binary artifact labelled as text is skipped rather than refused.
create or replace function collab.search_text(content bytea)
returns text
language plpgsql
immutable
as $$
begin
  return convert_from(search_text.content, 'UTF8');
exception when character_not_in_repertoire or untranslatable_character then
  return null;
end
$$;
comment on function collab.search_text(bytea) is
  'A blob''s bytes as UTF-8 text, null when they are not valid UTF-8 (text artifacts for search).';
