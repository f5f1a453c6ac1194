"""collab.search_rank prunes (MaxScore: a threshold from the rarest terms' best documents, then
only the essential terms' postings read in full), and its top k must stay exactly the top k of
the plain BM25 sum over every posting of the query's terms, filters included."""

from __future__ import annotations

import random

from collab.client import Client

WORDS = [f"w{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(6)]

# The unpruned sum, with the k1 and b of collab.search_rank read from its source, over the
# query's words and word pairs, each term's document frequency counted from its postings (the
# definition; collab.search_rank reads the words' from collab.search_vocabulary).
BRUTE = """
with s as (select c.document_count as n, c.total_length / c.document_count as avgdl
             from collab.search_collections c where c.name = 'prune'),
     df as (select p.term, count(*) as n from collab.search_postings p
             where p.collection = 'prune' group by p.term),
     q as (select t.term, t.frequency * ln(1 + (s.n - df.n + 0.5) / (df.n + 0.5)) as w
             from s, collab.search_query_terms(%(q)s) t
             join df on df.term = t.term)
select d.key, round(sum(q.w * p.frequency * (%(k1)s + 1)
                  / (p.frequency + %(k1)s * (1 - %(b)s + %(b)s * p.length / s.avgdl)))::numeric, 9)
       as score
  from s, q
  join collab.search_postings p on p.collection = 'prune' and p.term = q.term
  join collab.search_documents d on d.workspace_id = p.workspace_id and d.id = p.document_id
 where %(prefix)s::text is null or starts_with(d.path, %(prefix)s)
 group by d.key, d.id
 order by 2 desc, d.id
 limit %(k)s
"""


def test_pruned_top_k_equals_the_full_sum(db_url: str) -> None:
    rng = random.Random(16)
    # Zipf-like word use, so that some terms are common (long postings) and some rare.
    weights = [1 / (i + 1) for i in range(len(WORDS))]
    docs = [
        {
            "key": f"d{i}",
            "path": f"p{i % 3}/f{i}",
            "body": " ".join(rng.choices(WORDS, weights, k=rng.randint(3, 40))),
        }
        for i in range(3000)
    ]
    with Client(db_url, max_size=2) as c:
        for start in range(0, len(docs), 1000):
            c.index_documents("prune", docs[start : start + 1000])
        with c.pool.connection() as conn:
            row = conn.execute(
                "select prosrc from pg_proc where proname = 'search_rank'"
            ).fetchone()
            assert row is not None
            source = str(row[0])
            k1 = float(source.split("k1 constant double precision := ")[1].split(";")[0])
            b = float(source.split("b constant double precision := ")[1].split(";")[0])
            for n in range(40):
                query = " ".join(rng.choices(WORDS, weights, k=rng.randint(1, 12)))
                for k, prefix in ((1, None), (10, None), (10, "p1/"), (50, None)):
                    filters = {"path_prefix": prefix} if prefix else {}
                    got = [
                        (h["key"], round(float(h["score"]), 9))
                        for h in c.search("prune", query, k=k, filters=filters, highlights=False)
                    ]
                    want = [
                        (key, round(float(score), 9))
                        for key, score in conn.execute(
                            BRUTE, {"q": query, "k": k, "k1": k1, "b": b, "prefix": prefix}
                        )
                    ]
                    assert got == want, (n, query, k, prefix)


# collab.search_rank_others against the plain sum, through both of its plans: a few documents
# (primary-key lookups) and every document (one range read of the terms' postings).
OTHERS = """
with s as (select c.workspace_id as ws, c.total_length / c.document_count as avgdl
             from collab.search_collections c where c.name = 'others'),
     q as (select array_agg(v.term order by v.term) as terms,
                  array_agg(v.document_frequency::float8 / 7 order by v.term) as weights,
                  array_agg(v.document_frequency order by v.term) as dfs
             from collab.search_vocabulary v
            where v.collection = 'others' and v.term = any(%(terms)s)),
     ids as (select array_agg(d.id order by d.id) as ids from collab.search_documents d
              where d.collection = 'others' and d.key = any(%(keys)s))
select o.document_id, round(o.score::numeric, 9)
  from s, q, ids, collab.search_rank_others(s.ws, 'others', q.terms, q.weights, q.dfs, ids.ids,
                                            %(k1)s, %(b)s, s.avgdl) o
 order by 1
"""
OTHERS_BRUTE = """
with s as (select c.total_length / c.document_count as avgdl
             from collab.search_collections c where c.name = 'others')
select p.document_id,
       round(sum(v.document_frequency::float8 / 7 * p.frequency * (%(k1)s + 1)
                 / (p.frequency + %(k1)s * (1 - %(b)s + %(b)s * p.length / s.avgdl)))::numeric, 9)
  from s, collab.search_postings p
  join collab.search_vocabulary v on v.collection = p.collection and v.term = p.term
  join collab.search_documents d on d.workspace_id = p.workspace_id and d.id = p.document_id
 where p.collection = 'others' and p.term = any(%(terms)s) and d.key = any(%(keys)s)
 group by p.document_id
 order by 1
"""


def test_other_terms_scores_by_either_plan(db_url: str) -> None:
    rng = random.Random(17)
    weights = [1 / (i + 1) for i in range(len(WORDS))]
    docs = [
        {"key": f"d{i}", "body": " ".join(rng.choices(WORDS, weights, k=rng.randint(3, 40)))}
        for i in range(2000)
    ]
    with Client(db_url, max_size=1) as c:
        c.index_documents("others", docs[:1000])
        c.index_documents("others", docs[1000:])
        with c.pool.connection() as conn:
            for terms in (WORDS[:3], WORDS[:1], WORDS[20:30]):
                for keys in ([f"d{i}" for i in (5, 77, 1500)], [d["key"] for d in docs]):
                    params = {"terms": terms, "keys": keys, "k1": 2.5, "b": 0.9}
                    got = conn.execute(OTHERS, params).fetchall()
                    want = conn.execute(OTHERS_BRUTE, params).fetchall()
                    assert got == want and got, (terms, len(keys))
