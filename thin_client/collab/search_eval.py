"""``collab search eval``: run a BEIR-format test collection through ``api.search``.

Inputs are BEIR's files: corpus lines ``{"_id", "title", "text"}`` (a ``path`` key, when
present, fills the document's path field), query lines ``{"_id", "text"}``, and a qrels TSV
``query-id corpus-id score`` (a header line is skipped). The corpus is loaded into fresh
collections through ``api.index_documents`` (batches of 500), every query runs through
``api.search``, and the same queries run through a BM25 baseline from a well-kept library
(``bm25s``, k1 1.2, b 0.75, Lucene's idf) over the PostgreSQL English lexemes of title and text
(``to_tsvector('english', ...)``, the tokens plain BM25 in Postgres would use).

Protocols:

* ``full``: every query is ranked against the whole corpus.
* ``batch1000`` (CodeSearchNet's): the queries are shuffled with the seed and cut into batches
  of 1000; each query is ranked against the gold documents of its batch only (a batch short of
  1000 candidates is filled with documents drawn with the seed). Each batch is its own
  collection, so the collection statistics are the batch's.

Ranks count ties against the gold (CodeSearchNet's ``distances <= correct``): among documents of
equal score, the relevant ones are placed last. Metrics per query, then averaged: hit@1/3/10
(trec_eval ``success``), MRR@10 (``recip_rank`` over the top 10) and nDCG@10 (``ndcg_cut``,
linear gain); tests/py/search checks them against pytrec_eval on the same runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from collab.client import Client

DEPTH = 100  # ranks recorded per query
BATCH = 1000  # CodeSearchNet's test batch
INDEX_BATCH = 500  # documents per api.index_documents call
CUTOFFS = (1, 3, 10)
METRICS = ("hit@1", "hit@3", "hit@10", "mrr@10", "ndcg@10")


@dataclass
class Collection:
    """A BEIR test collection read from its files."""

    corpus: list[dict[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    corpus_sha256: str
    queries_sha256: str
    qrels_sha256: str


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(corpus: Path, queries: Path, qrels: Path) -> Collection:
    """Read BEIR's corpus.jsonl, queries.jsonl and qrels.tsv."""
    docs = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                docs.append(
                    {
                        "_id": str(d["_id"]),
                        "title": d.get("title") or "",
                        "path": d.get("path") or "",
                        "text": d.get("text") or "",
                    }
                )
    qs: dict[str, str] = {}
    with queries.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                q = json.loads(line)
                qs[str(q["_id"])] = q["text"]
    rels: dict[str, dict[str, int]] = {}
    with qrels.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            parts = line.split()
            if not parts:
                continue
            if n == 0 and not parts[-1].lstrip("-").isdigit():
                continue  # the header
            qid, did, score = parts[0], parts[-2], int(parts[-1])
            if score > 0:
                rels.setdefault(qid, {})[did] = score
    return Collection(docs, qs, rels, _sha256(corpus), _sha256(queries), _sha256(qrels))


# -- metrics ------------------------------------------------------------------------------------
def query_metrics(ranking: Sequence[str], relevant: Mapping[str, int]) -> dict[str, float]:
    """hit@1/3/10, MRR@10 and nDCG@10 (linear gain, trec_eval's) of one ranked list."""
    top = list(ranking[:10])
    first = next((i for i, d in enumerate(top) if d in relevant), None)
    out = {f"hit@{c}": 1.0 if first is not None and first < c else 0.0 for c in CUTOFFS}
    out["mrr@10"] = 0.0 if first is None else 1.0 / (first + 1)
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(top))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    out["ndcg@10"] = dcg / idcg if idcg else 0.0
    return out


def mean_metrics(per_query: Iterable[Mapping[str, float]]) -> dict[str, float]:
    rows = list(per_query)
    return {m: (sum(r[m] for r in rows) / len(rows) if rows else 0.0) for m in METRICS}


def pessimistic(scored: Sequence[tuple[str, float]], relevant: Mapping[str, int]) -> list[str]:
    """The ranking with ties counted against the gold: by score, relevant documents last among
    equals, otherwise in the given order."""
    order = sorted(range(len(scored)), key=lambda i: (-scored[i][1], scored[i][0] in relevant, i))
    return [scored[i][0] for i in order]


def gold_rank(ranking: Sequence[str], relevant: Mapping[str, int]) -> int | None:
    return next((i + 1 for i, d in enumerate(ranking) if d in relevant), None)


# -- the BM25 baseline --------------------------------------------------------------------------
_LEXEMES = """
select d.ord, t.lexeme, pg_catalog.cardinality(t.positions) as n
  from pg_catalog.unnest(%(texts)s::text[]) with ordinality d(txt, ord)
 cross join lateral pg_catalog.unnest(pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig, d.txt)) t
 order by d.ord, t.positions[1]
"""


def english_tokens(dsn: str, texts: Sequence[str]) -> list[list[str]]:
    """Each text as its PostgreSQL English lexemes, repeated by their frequency."""
    out: list[list[str]] = [[] for _ in texts]
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        for start in range(0, len(texts), 2000):
            chunk = list(texts[start : start + 2000])
            cur.execute(_LEXEMES, {"texts": chunk})
            for ord_, lexeme, n in cur.fetchall():
                out[start + ord_ - 1].extend([lexeme] * int(n or 1))
    return out


class BM25Baseline:
    """bm25s (Lucene variant, k1 1.2, b 0.75) over a list of tokenized documents."""

    def __init__(self, ids: Sequence[str], tokens: Sequence[list[str]]) -> None:
        import bm25s

        self.ids = list(ids)
        self.model = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
        self.model.index([t or ["\x00empty"] for t in tokens], show_progress=False)
        self.vocab = set(self.model.vocab_dict)

    def scores(self, query_tokens: Sequence[str]) -> list[tuple[str, float]]:
        known = [t for t in query_tokens if t in self.vocab]
        if not known:
            return [(d, 0.0) for d in self.ids]
        values = self.model.get_scores(known)
        return [(d, float(s)) for d, s in zip(self.ids, values, strict=True)]


# -- the run -------------------------------------------------------------------------------------
def _batches(
    data: Collection, protocol: str, seed: int
) -> list[tuple[list[str], list[dict[str, str]]]]:
    """(query ids, candidate documents) per batch of the protocol."""
    qids = sorted(q for q in data.queries if q in data.qrels)
    if protocol == "full":
        return [(qids, data.corpus)]
    if protocol != "batch1000":
        raise ValueError(f"unknown protocol {protocol!r}: full or batch1000")
    rng = random.Random(seed)
    rng.shuffle(qids)
    by_id = {d["_id"]: d for d in data.corpus}
    out = []
    for start in range(0, len(qids), BATCH):
        chunk = qids[start : start + BATCH]
        gold_ids = sorted({g for q in chunk for g in data.qrels[q] if g in by_id})
        if len(gold_ids) < BATCH:
            taken = set(gold_ids)
            pool = [d for d in sorted(by_id) if d not in taken]
            gold_ids += rng.sample(pool, min(BATCH - len(gold_ids), len(pool)))
        out.append((chunk, [by_id[g] for g in gold_ids]))
    return out


def run(
    client: Client,
    data: Collection,
    protocol: str = "full",
    seed: int = 20261130,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the collection through api.search and the BM25 baseline; the report (a dict)."""
    say = progress or (lambda _msg: None)
    run_id = uuid.uuid4().hex[:10]
    per_query: list[dict[str, Any]] = []
    ours_rows: list[dict[str, float]] = []
    base_rows: list[dict[str, float]] = []
    index_seconds = 0.0
    indexed = 0
    latencies: list[float] = []
    for number, (qids, docs) in enumerate(_batches(data, protocol, seed)):
        collection = f"eval-{run_id}-{number}"
        say(f"batch {number}: indexing {len(docs)} documents into {collection}")
        started = time.perf_counter()
        for start in range(0, len(docs), INDEX_BATCH):
            client.index_documents(
                collection,
                [
                    {"key": d["_id"], "title": d["title"], "path": d["path"], "body": d["text"]}
                    for d in docs[start : start + INDEX_BATCH]
                ],
            )
        index_seconds += time.perf_counter() - started
        indexed += len(docs)
        say(f"batch {number}: BM25 baseline over {len(docs)} documents")
        doc_tokens = english_tokens(
            client.dsn, [f"{d['title']} {d['path']} {d['text']}" for d in docs]
        )
        baseline = BM25Baseline([d["_id"] for d in docs], doc_tokens)
        query_tokens = english_tokens(client.dsn, [data.queries[q] for q in qids])
        say(f"batch {number}: {len(qids)} queries")
        try:
            for qid, q_tokens in zip(qids, query_tokens, strict=True):
                relevant = data.qrels[qid]
                t0 = time.perf_counter()
                hits = client.search(collection, data.queries[qid], k=DEPTH, highlights=False)
                latencies.append(time.perf_counter() - t0)
                ours = pessimistic([(h["key"], float(h["score"])) for h in hits], relevant)
                base_scored = baseline.scores(q_tokens)
                base_scored.sort(key=lambda x: -x[1])
                base = pessimistic(base_scored, relevant)[:DEPTH]
                ours_m = query_metrics(ours, relevant)
                base_m = query_metrics(base, relevant)
                ours_rows.append(ours_m)
                base_rows.append(base_m)
                per_query.append(
                    {
                        "id": qid,
                        "query": data.queries[qid],
                        "gold": sorted(relevant),
                        "rank": gold_rank(ours, relevant),
                        "bm25_rank": gold_rank(base, relevant),
                        "top10": ours[:10],
                        "bm25_top10": base[:10],
                    }
                )
        finally:
            client.drop_collection(collection)
    latencies.sort()
    return {
        "protocol": protocol,
        "seed": seed,
        "corpus_sha256": data.corpus_sha256,
        "queries_sha256": data.queries_sha256,
        "qrels_sha256": data.qrels_sha256,
        "n_docs": len(data.corpus),
        "n_queries": len(per_query),
        "depth": DEPTH,
        "collab": {
            "engine": "api.search: BM25 over collab.search_postings, code-aware English terms, BM25F field weights",
            **mean_metrics(ours_rows),
        },
        "bm25": {
            "engine": "bm25s (method lucene, k1 1.2, b 0.75) over to_tsvector('english') lexemes of title, path and text",
            **mean_metrics(base_rows),
        },
        "timing": {
            "indexed_documents": indexed,
            "index_seconds": round(index_seconds, 3),
            "documents_per_second": round(indexed / index_seconds, 1) if index_seconds else None,
            "search_p50_ms": round(1000 * statistics.median(latencies), 2) if latencies else None,
            "search_p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 2)
            if latencies
            else None,
        },
        "per_query": per_query,
    }


def evaluate(
    client: Client,
    corpus: Path,
    queries: Path,
    qrels: Path,
    protocol: str,
    seed: int,
    out: Path,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Load the files, run them, and write the report to ``out`` (with set.json's provenance
    when the corpus has one beside it)."""
    data = load(corpus, queries, qrels)
    report = run(client, data, protocol=protocol, seed=seed, progress=progress)
    info_path = corpus.parent / "set.json"
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
    head = {
        "set": info.get("set", corpus.parent.name),
        "package": info.get("package"),
        "package_version": info.get("package_version"),
        "set_notes": {
            k: v for k, v in info.items() if k not in {"set", "package", "package_version"}
        },
    }
    full = {**head, **report}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(full, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return full
