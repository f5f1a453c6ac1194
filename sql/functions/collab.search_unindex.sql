-- Remove documents (by key) from a collection of workspace ws in the caller's transaction,
-- with exactly their postings, and keep the collection's statistics exact (under the lock of
-- its row, as collab.search_index). Keys not indexed are ignored. Returns how many went.
create or replace function collab.search_unindex(ws uuid, collection text, keys text[])
returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  old_ids bigint[];
  old_terms text[];
  removed bigint;
  removed_length double precision;
begin
  perform 1 from collab.search_collections c
   where c.workspace_id = search_unindex.ws and c.name = search_unindex.collection
     for update;
  if not found then
    return 0;
  end if;
  -- The old rows first, into arrays; then exactly their postings by primary key (an array
  -- join the planner always runs through the index, whatever it knows of the tables).
  with old as (
    delete from collab.search_documents d
     where d.workspace_id = search_unindex.ws and d.collection = search_unindex.collection
       and d.key = any(search_unindex.keys)
    returning d.id, d.length, d.terms
  )
  select (select count(*) from old), (select coalesce(sum(o.length), 0) from old o),
         coalesce((select array_agg(o.id order by o.id, t.term) from old o, pg_catalog.unnest(o.terms) t(term)), '{}'),
         coalesce((select array_agg(t.term order by o.id, t.term) from old o, pg_catalog.unnest(o.terms) t(term)), '{}')
    into removed, removed_length, old_ids, old_terms;
  if removed > 0 then
    delete from collab.search_postings p
     using rows from (pg_catalog.unnest(old_terms), pg_catalog.unnest(old_ids)) o(term, id)
     where p.workspace_id = search_unindex.ws and p.collection = search_unindex.collection
       and p.term = o.term and p.document_id = o.id;
    update collab.search_vocabulary v
       set document_frequency = v.document_frequency - o.n
      from (select t.term, count(*) as n from pg_catalog.unnest(old_terms) t(term) group by t.term) o
     where v.workspace_id = search_unindex.ws and v.collection = search_unindex.collection and v.term = o.term;
  end if;
  update collab.search_collections c
     set document_count = c.document_count - removed,
         total_length = greatest(c.total_length - removed_length, 0),
         updated_at = pg_catalog.now()
   where c.workspace_id = search_unindex.ws and c.name = search_unindex.collection;
  return removed;
end
$$;
comment on function collab.search_unindex(uuid, text, text[]) is
  'Removes documents by key from a collection of a workspace (postings, document frequencies and collection statistics kept exact); internal: the artifact hook calls it.';
revoke all on function collab.search_unindex(uuid, text, text[]) from public;
