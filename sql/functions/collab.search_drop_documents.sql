-- Delete documents (by key) of a collection of workspace ws with exactly their postings, and
-- take their words out of the collection's document frequencies (collab.search_vocabulary,
-- which holds no word pairs: collab.search_index).
-- The caller holds the collection row's lock and updates its document_count and total_length
-- with what this returns: how many documents went and their summed length. Keys not indexed
-- are ignored. Shared by collab.search_index (a key indexed again replaces its document) and
-- collab.search_unindex.
create or replace function collab.search_drop_documents(
  ws uuid, collection text, keys text[], out removed bigint, out removed_length double precision)
language plpgsql
volatile
as $$
declare
  old_ids bigint[];
  old_terms text[];
begin
  -- The old rows first, into arrays; then exactly their postings by primary key (an array
  -- join the planner always runs through the index, whatever it knows of the tables).
  with old as (
    delete from collab.search_documents d
     where d.workspace_id = search_drop_documents.ws and d.collection = search_drop_documents.collection
       and d.key = any(search_drop_documents.keys)
    returning d.id, d.length, d.terms
  )
  select (select count(*) from old), (select coalesce(sum(o.length), 0) from old o),
         coalesce((select array_agg(o.id order by o.id, t.term) from old o, pg_catalog.unnest(o.terms) t(term)), '{}'),
         coalesce((select array_agg(t.term order by o.id, t.term) from old o, pg_catalog.unnest(o.terms) t(term)), '{}')
    into removed, removed_length, old_ids, old_terms;
  if removed > 0 then
    delete from collab.search_postings p
     using rows from (pg_catalog.unnest(old_terms), pg_catalog.unnest(old_ids)) o(term, id)
     where p.workspace_id = search_drop_documents.ws and p.collection = search_drop_documents.collection
       and p.term = o.term and p.document_id = o.id;
    update collab.search_vocabulary v
       set document_frequency = v.document_frequency - o.n
      from (select t.term, count(*) as n from pg_catalog.unnest(old_terms) t(term)
             where not collab.search_is_pair(t.term) group by t.term) o
     where v.workspace_id = search_drop_documents.ws and v.collection = search_drop_documents.collection
       and v.term = o.term;
  end if;
end
$$;
comment on function collab.search_drop_documents(uuid, text, text[]) is
  'Deletes documents of a collection by key with their postings and document frequencies; returns (removed, removed_length). The caller holds the collection''s lock.';
revoke all on function collab.search_drop_documents(uuid, text, text[]) from public;
