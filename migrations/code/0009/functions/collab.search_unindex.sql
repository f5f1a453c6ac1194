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
  removed bigint;
  removed_length double precision;
begin
  perform 1 from collab.search_collections c
   where c.workspace_id = search_unindex.ws and c.name = search_unindex.collection
     for update;
  if not found then
    return 0;
  end if;
  select x.removed, x.removed_length into removed, removed_length
    from collab.search_drop_documents(search_unindex.ws, search_unindex.collection,
                                      search_unindex.keys) x;
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
