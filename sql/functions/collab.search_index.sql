-- Index documents into a collection of workspace ws, in the caller's transaction (so they are
-- searchable at once, and gone again if it rolls back). documents: a JSON array of objects
-- {key, title, path, body, metadata}, already validated (api.index_documents and the artifact
-- hook validate); when a key repeats in the array the last element wins, and a key already
-- indexed is replaced. The collection is created on first use; its row is locked while its
-- statistics (document_count, total_length, and the document frequencies of
-- collab.search_vocabulary) change, so concurrent indexers of one collection serialize there
-- and the statistics stay exact. The vocabulary keeps the words only: a word pair's document
-- frequency is the length of its postings list, counted when a query asks for it
-- (collab.search_rank); pairs were 84 % of the vocabulary's rows and a third of the indexing
-- time went to keeping them. Returns {collection, indexed, replaced,
-- document_count}. A batch's postings and vocabulary entries are written in term order: one
-- pass along their primary keys rather than a walk across them for every document.
create or replace function collab.search_index(ws uuid, collection text, documents jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  replaced_count bigint;
  replaced_length double precision;
  added_count bigint;
  added_length double precision;
  total bigint;
begin
  insert into collab.search_collections (workspace_id, name)
  values (search_index.ws, search_index.collection)
  on conflict do nothing;
  perform 1 from collab.search_collections c
   where c.workspace_id = search_index.ws and c.name = search_index.collection
     for update;

  select x.removed, x.removed_length into replaced_count, replaced_length
    from collab.search_drop_documents(search_index.ws, search_index.collection,
                                      array(select e ->> 'key' from pg_catalog.jsonb_array_elements(search_index.documents) e)) x;

  with batch as (
    select distinct on (x.e ->> 'key')
           x.e ->> 'key' as key,
           coalesce(x.e ->> 'title', '') as title,
           coalesce(x.e ->> 'path', '') as path,
           coalesce(x.e ->> 'body', '') as body,
           coalesce(nullif(x.e -> 'metadata', 'null'::jsonb), '{}'::jsonb) as metadata
      from pg_catalog.jsonb_array_elements(search_index.documents) with ordinality x(e, ord)
     order by x.e ->> 'key', x.ord desc
  ), termed as (
    select b.*, coalesce(t.terms, '{}') as terms, coalesce(t.frequencies, '{}') as frequencies,
           coalesce(t.length, 0) as length
      from batch b
     cross join lateral (
       select pg_catalog.array_agg(s.term order by s.term) as terms,
              pg_catalog.array_agg(s.frequency order by s.term) as frequencies,
              sum(s.frequency)::real as length
         from collab.search_terms(b.title, b.path, b.body) s
     ) t
  ), ins as (
    insert into collab.search_documents (workspace_id, collection, key, title, path, body, metadata, length, terms)
    select search_index.ws, search_index.collection, termed.key, termed.title, termed.path, termed.body,
           termed.metadata, termed.length, termed.terms
      from termed
    returning id, key, length
  ), posted as (
    insert into collab.search_postings (workspace_id, collection, term, document_id, frequency, length)
    select search_index.ws, search_index.collection, u.term, ins.id, u.frequency, ins.length
      from ins
      join termed on termed.key = ins.key
     cross join lateral rows from (pg_catalog.unnest(termed.terms), pg_catalog.unnest(termed.frequencies)) u(term, frequency)
     order by u.term, ins.id
  ), more as (
    insert into collab.search_vocabulary as v (workspace_id, collection, term, document_frequency)
    select search_index.ws, search_index.collection, u.term, count(*)
      from termed cross join lateral pg_catalog.unnest(termed.terms) u(term)
     where not collab.search_is_pair(u.term)
     group by u.term
     order by u.term
    on conflict on constraint search_vocabulary_pkey
    do update set document_frequency = v.document_frequency + excluded.document_frequency
  )
  select count(*), coalesce(sum(ins.length), 0) into added_count, added_length from ins;

  update collab.search_collections c
     set document_count = c.document_count - replaced_count + added_count,
         total_length = greatest(c.total_length - replaced_length + added_length, 0),
         updated_at = pg_catalog.now()
   where c.workspace_id = search_index.ws and c.name = search_index.collection
  returning c.document_count into total;

  -- Tables never analyzed (a new database) have no statistics, and plans made without them
  -- read a whole collection for each query term (collab.search_rank): gather them once, here,
  -- on the first batch; autovacuum keeps them from then on, and the planner scales them to the
  -- tables' current size.
  if exists (select 1 from pg_catalog.pg_class r
              where r.oid in ('collab.search_postings'::pg_catalog.regclass,
                              'collab.search_vocabulary'::pg_catalog.regclass,
                              'collab.search_documents'::pg_catalog.regclass)
                and r.reltuples < 0) then
    analyze collab.search_postings, collab.search_vocabulary, collab.search_documents;
  end if;

  return pg_catalog.jsonb_build_object('collection', search_index.collection, 'indexed', added_count,
                                       'replaced', replaced_count, 'document_count', total);
end
$$;
comment on function collab.search_index(uuid, text, jsonb) is
  'Indexes validated documents {key, title, path, body, metadata} into a collection of a workspace in the caller''s transaction (replacing keys already indexed) and keeps the collection''s BM25 statistics; internal: api.index_documents and the artifact hook call it.';
revoke all on function collab.search_index(uuid, text, jsonb) from public;
