-- Search a collection of the caller's workspace: the top k documents for a natural-language or
-- code query, best first, with BM25 scores (collab.search_rank) and, when highlights is true,
-- a highlight of the body (ts_headline, matches between <mark> and </mark>, over the first
-- 16 KiB, for the returned hits only). Documents indexed earlier in the same transaction are
-- found. filters: a JSON object with any of path_prefix (a string the path starts with),
-- metadata (a JSON object the document's metadata contains) and keys (an array of at most
-- 10000 keys to search within).
create or replace function api.search(collection text, query text, k integer default 10,
                                      filters jsonb default '{}', highlights boolean default true)
returns table (rank integer, key text, title text, path text, score double precision,
               highlight text, metadata jsonb)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  f jsonb := coalesce(nullif(search.filters, 'null'::jsonb), '{}'::jsonb);
  keys_ text[];
  marks tsquery;
begin
  if search.collection is null or not collab.is_name(search.collection) then
    perform collab.raise_error('PT400', 'invalid_input',
      'collection must be 1-100 characters of letters, digits, ".", "_", "-" or ":"', 'collection');
  end if;
  if search.query is null or length(search.query) not between 1 and 2000 then
    perform collab.raise_error('PT400', 'invalid_input', 'query must be a string of 1-2000 characters', 'query');
  end if;
  if search.k is null or search.k not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'k must be between 1 and 1000', 'k');
  end if;
  if jsonb_typeof(f) <> 'object' or f - '{path_prefix,metadata,keys}'::text[] <> '{}'::jsonb then
    perform collab.raise_error('PT400', 'invalid_input',
      'filters must be a JSON object with any of path_prefix, metadata, keys', 'filters');
  end if;
  if f ? 'path_prefix' and jsonb_typeof(f -> 'path_prefix') <> 'string' then
    perform collab.raise_error('PT400', 'invalid_input', 'filters.path_prefix must be a string', 'filters');
  end if;
  if f ? 'metadata' and jsonb_typeof(f -> 'metadata') <> 'object' then
    perform collab.raise_error('PT400', 'invalid_input', 'filters.metadata must be a JSON object', 'filters');
  end if;
  if f ? 'keys' then
    if jsonb_typeof(f -> 'keys') <> 'array' or jsonb_array_length(f -> 'keys') > 10000
       or exists (select 1 from jsonb_array_elements(f -> 'keys') e where jsonb_typeof(e) <> 'string') then
      perform collab.raise_error('PT400', 'invalid_input',
        'filters.keys must be an array of at most 10000 strings', 'filters');
    end if;
    keys_ := array(select jsonb_array_elements_text(f -> 'keys'));
  end if;
  if not exists (select 1 from collab.search_collections c where c.workspace_id = ws and c.name = search.collection) then
    perform collab.raise_error('PT404', 'collection_not_found',
      format('collection %s not found', quote_literal(search.collection)), 'collection',
      'index documents into it first (api.index_documents)');
  end if;
  if search.highlights then
    select string_agg(quote_literal(t.term), ' | ')::tsquery into marks
      from collab.search_field_terms(search.query) t;
  end if;
  return query
  select (row_number() over (order by r.score desc, r.document_id))::integer, d.key, d.title, d.path, r.score,
         case when marks is not null
              then ts_headline('pg_catalog.english'::regconfig, left(d.body, 16384), marks,
                               'StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=24, MinWords=8')
         end,
         d.metadata
    from collab.search_rank(ws, search.collection, search.query, search.k,
                            f ->> 'path_prefix', f -> 'metadata', keys_) r
    -- Each hit's row by primary key, one lookup per hit: as a plain join, the planner (which
    -- expects 1000 rows from search_rank) hashed all the workspace's documents, 20 ms at
    -- 15,000. The LIMIT keeps the subquery from being flattened into that join.
    cross join lateral (
      select d.key, d.title, d.path, d.body, d.metadata
        from collab.search_documents d
       where d.workspace_id = ws and d.id = r.document_id
       limit 1
    ) d
   order by r.score desc, r.document_id;
end
$$;
comment on function api.search(text, text, integer, jsonb, boolean) is
  'Search a collection: the top k (1-1000) documents for the query, best first, with rank, key, title, path, BM25 score, a highlight of the body (when highlights) and metadata. filters: {path_prefix, metadata (containment), keys (at most 10000)}. PT404 collection_not_found. Needs the viewer role.';
revoke all on function api.search(text, text, integer, jsonb, boolean) from public;
grant execute on function api.search(text, text, integer, jsonb, boolean) to authenticated, service_role;
