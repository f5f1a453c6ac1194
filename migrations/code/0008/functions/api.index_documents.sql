-- Index a batch of documents into a search collection of the caller's workspace (created on
-- first use), in this transaction: they are searchable by api.search at once, in this
-- transaction and after it commits. A document whose key is already in the collection is
-- replaced. Every element is validated first; a bad one raises PT400 naming its index, and
-- nothing is written. Bounds: 1000 documents a call, body 512 KiB, title and path 1000
-- characters, key 500, metadata (a JSON object) 64 KiB.
create or replace function api.index_documents(collection text, documents jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  bad record;
begin
  if index_documents.collection is null or not collab.is_name(index_documents.collection) then
    perform collab.raise_error('PT400', 'invalid_input',
      'collection must be 1-100 characters of letters, digits, ".", "_", "-" or ":"', 'collection');
  end if;
  if index_documents.documents is null or jsonb_typeof(index_documents.documents) <> 'array' then
    perform collab.raise_error('PT400', 'invalid_input',
      'documents must be a JSON array of {key, title, path, body, metadata} objects', 'documents');
  end if;
  if jsonb_array_length(index_documents.documents) > 1000 then
    perform collab.raise_error('PT400', 'invalid_input',
      format('documents holds %s elements; at most 1000 per call', jsonb_array_length(index_documents.documents)),
      'documents');
  end if;
  select v.idx, v.field,
         case v.field
           when 'documents' then 'must be a JSON object'
           when 'keys' then 'unknown key(s): a document has key, title, path, body, metadata'
           when 'key' then 'key must be a string of 1-500 characters'
           when 'title' then 'title must be a string of at most 1000 characters'
           when 'path' then 'path must be a string of at most 1000 characters'
           when 'body' then 'body must be a string of at most 524288 bytes'
           when 'metadata' then 'metadata must be a JSON object of at most 65536 bytes'
         end as message
    into bad
    from (
      select t.ord - 1 as idx,
             case
               when jsonb_typeof(t.e) <> 'object' then 'documents'
               when t.e - '{key,title,path,body,metadata}'::text[] <> '{}'::jsonb then 'keys'
               when jsonb_typeof(t.e -> 'key') is distinct from 'string'
                    or length(t.e ->> 'key') not between 1 and 500 then 'key'
               when coalesce(jsonb_typeof(t.e -> 'title'), 'null') not in ('string', 'null')
                    or length(t.e ->> 'title') > 1000 then 'title'
               when coalesce(jsonb_typeof(t.e -> 'path'), 'null') not in ('string', 'null')
                    or length(t.e ->> 'path') > 1000 then 'path'
               when coalesce(jsonb_typeof(t.e -> 'body'), 'null') not in ('string', 'null')
                    or octet_length(t.e ->> 'body') > 524288 then 'body'
               when coalesce(jsonb_typeof(t.e -> 'metadata'), 'null') not in ('object', 'null')
                    or octet_length((t.e -> 'metadata')::text) > 65536 then 'metadata'
             end as field
        from jsonb_array_elements(index_documents.documents) with ordinality t(e, ord)
    ) v
   where v.field is not null
   order by v.idx
   limit 1;
  if found then
    perform collab.raise_error('PT400', 'invalid_input',
      format('documents[%s]: %s', bad.idx, bad.message),
      case when bad.field = 'keys' then 'documents' else bad.field end,
      'fix the element and send the batch again; nothing was indexed',
      jsonb_build_object('index', bad.idx));
  end if;
  return collab.search_index(ws, index_documents.collection, index_documents.documents);
end
$$;
comment on function api.index_documents(text, jsonb) is
  'Index documents into a search collection (created on first use) in this transaction. documents: a JSON array of at most 1000 objects {key, title, path, body, metadata}; a key already indexed is replaced. Returns {collection, indexed, replaced, document_count}. Needs the member role.';
revoke all on function api.index_documents(text, jsonb) from public;
grant execute on function api.index_documents(text, jsonb) to authenticated, service_role;
