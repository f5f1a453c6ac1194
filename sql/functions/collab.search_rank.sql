-- The ranking of api.search: BM25 over the postings of one collection, with statistics kept in
-- tables (N and the mean length from collab.search_collections, each word's document
-- frequency from collab.search_vocabulary and each word pair's from the length of its
-- postings list, field-weighted term frequencies and lengths from collab.search_postings). The query's terms are its words and its word pairs
-- (collab.search_query_terms), which meet the pairs of the documents' leads
-- (collab.search_terms). For each query term (repeats counted): idf =
-- ln(1 + (N - df + 0.5) / (df + 0.5)) times f (k1 + 1) / (f + k1 (1 - b + b dl / avgdl)),
-- with k1 = 2.5, b = 0.75 (chosen on the dev queries of docs/search.md, which are disjoint
-- from the queries the reports score). Candidates that fail the filters (path_prefix,
-- metadata containment, keys) are dropped before the top `k` is taken; ties go to the older
-- document.
--
-- Top-k pruning (MaxScore): a term can add at most idf x (k1 + 1) to a score. The rarest terms'
-- best documents are scored in full first; the k-th of those scores is a threshold that the
-- top k must reach. The terms then split into the essential ones (the rarest, in order of
-- idf) and the rest, whose bounds add up to less than the threshold: a document with none of
-- the essential terms cannot reach the top k, so only the essential terms' postings are read
-- in full, and the rest is added for the documents that can still reach the threshold. The
-- result is exactly the top k of the plain sum.
--
-- Adding the other terms' scores to a set of documents (collab.search_rank_others) takes one
-- of two plans, chosen by their cost: a primary-key lookup per (term, document) when there
-- are few of them, or one range read of those terms' postings, aggregated and joined by hash,
-- when the lookups would outnumber the postings (a lookup descends the index; a range read
-- costs a fraction of that per posting). Every statement reads the
-- postings with array conditions and no join parameter, so that a plan made without table
-- statistics (a collection indexed just now) cannot turn a lookup into a scan per document.
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
  k1 constant double precision := 2.5;
  b constant double precision := 0.75;
  query_terms text[];
  query_frequencies real[];
  terms text[];
  weights double precision[];
  frequencies bigint[];
  n double precision;
  avgdl double precision;
  filtered boolean := search_rank.path_prefix is not null or search_rank.metadata is not null
                      or search_rank.keys is not null;
  seed integer := 1;
  seen bigint;
  theta double precision;
  essential integer;
  rest double precision := 0;
  cand_ids bigint[];
  cand_partial double precision[];
  part_ids bigint[];
  part_scores double precision[];
begin
  select c.document_count, greatest(c.total_length / greatest(c.document_count, 1), 1e-9)
    into n, avgdl
    from collab.search_collections c
   where c.workspace_id = search_rank.ws and c.name = search_rank.collection;
  -- The query's terms with their weights (query frequency x idf), rarest (highest bound) first.
  -- A word's document frequency is kept in collab.search_vocabulary; a word pair's is the
  -- length of its postings list (pairs are rare: a few postings each), counted here.
  select array_agg(t.term), array_agg(t.frequency)
    into query_terms, query_frequencies
    from collab.search_query_terms(search_rank.query) t;
  select array_agg(x.term order by x.w desc, x.term), array_agg(x.w order by x.w desc, x.term),
         array_agg(x.df order by x.w desc, x.term)
    into terms, weights, frequencies
    from (select t.term, d.df, t.frequency * ln(1 + (n - d.df + 0.5) / (d.df + 0.5)) as w
            from rows from (pg_catalog.unnest(query_terms), pg_catalog.unnest(query_frequencies)) t(term, frequency)
            join (select v.term, v.document_frequency as df
                    from collab.search_vocabulary v
                   where v.workspace_id = search_rank.ws and v.collection = search_rank.collection
                     and v.term = any(query_terms) and not collab.search_is_pair(v.term)
                  union all
                  select p.term, count(*)
                    from collab.search_postings p
                   where p.workspace_id = search_rank.ws and p.collection = search_rank.collection
                     and p.term = any(array(select q.term from pg_catalog.unnest(query_terms) q(term)
                                             where collab.search_is_pair(q.term)))
                   group by p.term) d on d.term = t.term
           where d.df > 0) x;
  if terms is null then
    return;
  end if;

  -- The threshold: the rarest terms (at least one, up to about 2000 postings) give the
  -- candidates; the best 4k of them by those terms are scored in full; the k-th full score of
  -- those passing the filters is a score the final top k must reach.
  seen := frequencies[1];
  while seed < cardinality(terms) and seen + frequencies[seed + 1] <= 2000 loop
    seed := seed + 1;
    seen := seen + frequencies[seed];
  end loop;
  if seed < cardinality(terms) then
    select array_agg(c.document_id), array_agg(c.partial)
      into cand_ids, cand_partial
      from (select p.document_id,
                   sum(weights[array_position(terms, p.term)] * p.frequency * (k1 + 1)
                       / (p.frequency + k1 * (1 - b + b * p.length / avgdl))) as partial
              from collab.search_postings p
             where p.workspace_id = search_rank.ws and p.collection = search_rank.collection
               and p.term = any(terms[1:seed])
             group by p.document_id
             order by 2 desc
             limit 4 * search_rank.k + 50) c;
    select min(f.score) filter (where f.r = search_rank.k)
      into theta
      from (select row_number() over (order by c.partial + coalesce(o.score, 0) desc) as r,
                   c.partial + coalesce(o.score, 0) as score
              from rows from (pg_catalog.unnest(cand_ids), pg_catalog.unnest(cand_partial)) c(document_id, partial)
              left join collab.search_rank_others(search_rank.ws, search_rank.collection, terms[seed + 1:],
                                                  weights[seed + 1:], frequencies[seed + 1:], cand_ids,
                                                  k1, b, avgdl) o on o.document_id = c.document_id
             where not filtered
                or exists (select 1 from collab.search_documents d
                            where d.workspace_id = search_rank.ws and d.id = c.document_id
                              and (search_rank.path_prefix is null or starts_with(d.path, search_rank.path_prefix))
                              and (search_rank.metadata is null or d.metadata @> search_rank.metadata)
                              and (search_rank.keys is null or d.key = any(search_rank.keys)))) f;
  end if;
  -- Essential terms: the shortest prefix whose complement's bounds stay under the threshold
  -- (a margin of 1e-9 keeps rounding on the safe side).
  essential := cardinality(terms);
  if theta is not null then
    theta := theta * (1 - 1e-9);
    while essential > 1 and rest + weights[essential] * (k1 + 1) < theta loop
      rest := rest + weights[essential] * (k1 + 1);
      essential := essential - 1;
    end loop;
  else
    theta := 0;
  end if;

  -- The documents with an essential term that can still reach the threshold, with those
  -- terms' part of the score.
  select array_agg(pa.document_id), array_agg(pa.score)
    into part_ids, part_scores
    from (select p.document_id,
                 sum(weights[array_position(terms, p.term)] * p.frequency * (k1 + 1)
                     / (p.frequency + k1 * (1 - b + b * p.length / avgdl))) as score
            from collab.search_postings p
           where p.workspace_id = search_rank.ws and p.collection = search_rank.collection
             and p.term = any(terms[1:essential])
           group by p.document_id) pa
   where pa.score + rest >= theta;
  if part_ids is null then
    return;
  end if;

  return query
  with scored as (
    select pa.document_id, pa.score + coalesce(o.score, 0) as score
      from rows from (pg_catalog.unnest(part_ids), pg_catalog.unnest(part_scores)) pa(document_id, score)
      left join collab.search_rank_others(search_rank.ws, search_rank.collection, terms[essential + 1:],
                                          weights[essential + 1:], frequencies[essential + 1:], part_ids,
                                          k1, b, avgdl) o on o.document_id = pa.document_id
  )
  -- Scores rounded to 1e-9, so that documents whose sums differ only by the order of the
  -- additions tie, and the older one comes first.
  select sc.document_id, round(sc.score::numeric, 9)::double precision
    from scored sc
   where not filtered
      or exists (select 1 from collab.search_documents d
                  where d.workspace_id = search_rank.ws and d.id = sc.document_id
                    and (search_rank.path_prefix is null or starts_with(d.path, search_rank.path_prefix))
                    and (search_rank.metadata is null or d.metadata @> search_rank.metadata)
                    and (search_rank.keys is null or d.key = any(search_rank.keys)))
   order by 2 desc, sc.document_id
   limit search_rank.k;
end
$$;
comment on function collab.search_rank(uuid, text, text, integer, text, jsonb, text[]) is
  'BM25 (k1 2.5, b 0.75) over a collection''s postings with BM25F field weights (collab.search_terms) and the query''s word pairs (collab.search_pair_terms), with MaxScore top-k pruning; the top k document ids and scores passing the filters. Internal: api.search calls it.';
revoke all on function collab.search_rank(uuid, text, text, integer, text, jsonb, text[]) from public;
