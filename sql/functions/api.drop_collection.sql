-- Drop a search collection of the caller's workspace with all its documents and postings, in
-- this transaction. Returns the number of documents dropped; PT404 collection_not_found when
-- there is no such collection.
create or replace function api.drop_collection(collection text)
returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  dropped bigint;
begin
  if drop_collection.collection is null or not collab.is_name(drop_collection.collection) then
    perform collab.raise_error('PT400', 'invalid_input',
      'collection must be 1-100 characters of letters, digits, ".", "_", "-" or ":"', 'collection');
  end if;
  delete from collab.search_collections c
   where c.workspace_id = ws and c.name = drop_collection.collection
  returning c.document_count into dropped;
  if not found then
    perform collab.raise_error('PT404', 'collection_not_found',
      format('collection %s not found', quote_literal(drop_collection.collection)), 'collection');
  end if;
  -- The documents went with the collection (foreign key, on delete cascade); the postings and
  -- the vocabulary have no foreign key (it would cost every indexed term a check): they go here.
  delete from collab.search_postings p
   where p.workspace_id = ws and p.collection = drop_collection.collection;
  delete from collab.search_vocabulary v
   where v.workspace_id = ws and v.collection = drop_collection.collection;
  return dropped;
end
$$;
comment on function api.drop_collection(text) is
  'Drop a search collection with its documents and postings; returns the number of documents dropped. PT404 collection_not_found. Needs the member role.';
revoke all on function api.drop_collection(text) from public;
grant execute on function api.drop_collection(text) to authenticated, service_role;
