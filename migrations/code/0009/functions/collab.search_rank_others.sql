-- Part of collab.search_rank's MaxScore pruning: the BM25 score that the query terms `terms`
-- (with their weights, query frequency x idf, and their document frequencies `dfs`) add to
-- each of the documents `ids` of a collection that has postings for them. Two plans, chosen
-- by cost: a primary-key lookup per (term, document) while those are fewer than a quarter of
-- the terms' postings (a lookup descends the index, about four times the cost of a posting
-- read in order), otherwise one range read of the terms' postings, aggregated per document
-- and kept for the documents asked for (a hash join). Both give the same sums.
create or replace function collab.search_rank_others(ws uuid, collection text, terms text[],
                                                     weights double precision[], dfs bigint[],
                                                     ids bigint[], k1 double precision,
                                                     b double precision, avgdl double precision)
returns table (document_id bigint, score double precision)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if coalesce(cardinality(search_rank_others.terms), 0) = 0
     or coalesce(cardinality(search_rank_others.ids), 0) = 0 then
    return;
  end if;
  if 4 * cardinality(search_rank_others.ids)::bigint * cardinality(search_rank_others.terms)
     < (select sum(d) from pg_catalog.unnest(search_rank_others.dfs) d) then
    return query
    select p.document_id,
           sum(search_rank_others.weights[array_position(search_rank_others.terms, p.term)] * p.frequency
               * (search_rank_others.k1 + 1)
               / (p.frequency + search_rank_others.k1 * (1 - search_rank_others.b
                                                          + search_rank_others.b * p.length / search_rank_others.avgdl)))
      from collab.search_postings p
     where p.workspace_id = search_rank_others.ws and p.collection = search_rank_others.collection
       and p.term = any(search_rank_others.terms) and p.document_id = any(search_rank_others.ids)
     group by p.document_id;
  else
    return query
    select o.document_id, o.score
      from (select p.document_id,
                   sum(search_rank_others.weights[array_position(search_rank_others.terms, p.term)] * p.frequency
                       * (search_rank_others.k1 + 1)
                       / (p.frequency + search_rank_others.k1 * (1 - search_rank_others.b
                                                                  + search_rank_others.b * p.length / search_rank_others.avgdl))) as score
              from collab.search_postings p
             where p.workspace_id = search_rank_others.ws and p.collection = search_rank_others.collection
               and p.term = any(search_rank_others.terms)
             group by p.document_id) o
      join pg_catalog.unnest(search_rank_others.ids) i(id) on i.id = o.document_id;
  end if;
end
$$;
comment on function collab.search_rank_others(uuid, text, text[], double precision[], bigint[], bigint[], double precision, double precision, double precision) is
  'The BM25 score some query terms add to given documents of a collection (collab.search_rank''s pruning), by primary-key lookups or one range read, whichever costs less. Internal.';
revoke all on function collab.search_rank_others(uuid, text, text[], double precision[], bigint[], bigint[], double precision, double precision, double precision) from public;
