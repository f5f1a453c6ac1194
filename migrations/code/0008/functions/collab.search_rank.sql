-- The ranking of api.search: BM25 over the postings of one collection, with statistics kept in
-- tables (N and the mean length from collab.search_collections, each term's document
-- frequency from collab.search_vocabulary, field-weighted term frequencies and lengths from
-- collab.search_postings). For each query term (collab.search_terms of the query, repeats
-- counted): idf = ln(1 + (N - df + 0.5) / (df + 0.5)) times f (k1 + 1) / (f + k1 (1 - b +
-- b dl / avgdl)), k1 = 2.0, b = 0.9 (stronger length normalization and later saturation than
-- Lucene's 1.2 / 0.75, chosen on the evaluation sets of docs/search.md, which say so). Candidates that fail the filters (path_prefix,
-- metadata containment, keys) are dropped before the top `k` is taken; ties go to the older
-- document.
create or replace function collab.search_rank(ws uuid, collection text, query text, k integer,
                                              path_prefix text default null,
                                              metadata jsonb default null,
                                              keys text[] default null)
returns table (document_id bigint, score double precision)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  terms text[];
  weights double precision[];
  n double precision;
  avgdl double precision;
begin
  select c.document_count, greatest(c.total_length / greatest(c.document_count, 1), 1e-9)
    into n, avgdl
    from collab.search_collections c
   where c.workspace_id = search_rank.ws and c.name = search_rank.collection;
  -- The query's terms with their weights (query frequency x idf), as arrays: the postings are
  -- then read term by term through the primary key (term = any(...)), index-only.
  select array_agg(t.term), array_agg(t.frequency * ln(1 + (n - v.document_frequency + 0.5) / (v.document_frequency + 0.5)))
    into terms, weights
    from collab.search_terms('', '', search_rank.query) t
    join collab.search_vocabulary v
      on v.workspace_id = search_rank.ws and v.collection = search_rank.collection and v.term = t.term
   where v.document_frequency > 0;
  if terms is null then
    return;
  end if;
  return query
  with scored as (
    select p.document_id,
           sum(weights[array_position(terms, p.term)] * p.frequency * (2.0 + 1)
               / (p.frequency + 2.0 * (1 - 0.9 + 0.9 * p.length / avgdl))) as score
      from collab.search_postings p
     where p.workspace_id = search_rank.ws and p.collection = search_rank.collection
       and p.term = any(terms)
     group by p.document_id
  )
  select sc.document_id, sc.score
    from scored sc
   where (search_rank.path_prefix is null and search_rank.metadata is null and search_rank.keys is null)
      or exists (select 1 from collab.search_documents d
                  where d.workspace_id = search_rank.ws and d.id = sc.document_id
                    and (search_rank.path_prefix is null or starts_with(d.path, search_rank.path_prefix))
                    and (search_rank.metadata is null or d.metadata @> search_rank.metadata)
                    and (search_rank.keys is null or d.key = any(search_rank.keys)))
   order by sc.score desc, sc.document_id
   limit search_rank.k;
end
$$;
comment on function collab.search_rank(uuid, text, text, integer, text, jsonb, text[]) is
  'BM25 (k1 2.0, b 0.9) over a collection''s postings with BM25F field weights (collab.search_terms); the top k document ids and scores passing the filters. Internal: api.search calls it.';
revoke all on function collab.search_rank(uuid, text, text, integer, text, jsonb, text[]) from public;
