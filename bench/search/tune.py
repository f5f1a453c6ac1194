"""Choose the ranking parameters on dev queries only (issue 16's tuning protocol).

Usage: ``python bench/search/tune.py [--out reports/search/tuning.json]``

The reported figures of ``make search-eval`` must not come from parameters chosen on the same
queries. This script fixes the splits and searches the grid on the dev side only:

* C-stdlib: the dev queries are 1000 eligible queries drawn with ``DEV_SEED`` from those **not**
  in the reported sample (``search_sets.CODE_SEED``), under the same 1000-batch protocol; the
  reported sample is never scored here.
* D-pg: the queries are split with ``DEV_SEED`` into a dev half and a test half
  (``docs_split``); only the dev half is scored here, and ``make search-eval`` reports the test
  half separately.

For every (k1, b, title weight, name weight, lead length, lead weight, lead pair weight, title
pair weight) of the grid it scores the dev queries with the same terms as
``collab.search_terms`` (each field's terms taken from the database,
``collab.search_field_terms``, and the word pairs of the lead and of the title,
``collab.search_pair_terms``, weighted here as ``collab.search_terms`` weights them; a query's
terms are its words and its word pairs, as in ``collab.search_rank``) and the same BM25 formula
as ``collab.search_rank``, in numpy, and picks the best mean dev hit@3 over the two sets (ties:
the mean MRR@10, then the plainest: smaller k1, smaller b, smaller weights). It writes the
choice, for every value of every parameter the best point with that value, and the best
``TOP`` points (the grid has some 52,000); the choice is then copied by hand into
``collab.search_rank`` (k1, b) and ``collab.search_terms`` (the fields' weights, the pairs'
weight and the lead's length).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
from pathlib import Path

import numpy as np
import psycopg
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collab import search_sets

DEV_SEED = 16_0001
GRID = {
    "k1": (0.9, 1.2, 1.5, 2.0, 2.5, 3.0, 3.5),
    "b": (0.5, 0.75, 0.9, 1.0),
    "title_weight": (1, 3, 5, 8),
    "name_weight": (0, 2, 5),  # the title after its last "." (collab.search_terms)
    "lead_chars": (150, 300, 600),  # the body's first characters, cut back to a whole word
    "lead_weight": (0, 1, 2),
    # word pairs (collab.search_pair_terms): of the lead (its length as above) and of the title
    "lead_pair_weight": (0, 0.05, 0.1, 0.25, 0.5, 1),
    "title_pair_weight": (0, 1, 2),
}
FIELDS = ("title", "name", "path", "body", *(f"lead{n}" for n in GRID["lead_chars"]))
PAIR_FIELDS = ("titlepairs", *(f"leadpairs{n}" for n in GRID["lead_chars"]))
REPO = Path(__file__).resolve().parents[2]
TOP = 200  # grid points written to the report, best first


def docs_split(query_ids: list[str]) -> tuple[set[str], set[str]]:
    """D-pg's queries as (dev, test): a seeded half each (the dev half rounds down)."""
    ids = sorted(query_ids)
    dev = set(random.Random(DEV_SEED).sample(ids, len(ids) // 2))
    return dev, set(ids) - dev


def code_dev_queries() -> tuple[
    list[dict[str, str]], list[tuple[str, str, int]], search_sets.EvalSet
]:
    """1000 eligible C-stdlib queries outside the reported sample, drawn with DEV_SEED."""
    every = search_sets.build_code_set(sample=10**9)  # all eligible queries
    reported = {q["_id"] for q in search_sets.build_code_set().queries}
    pool = sorted((q for q in every.queries if q["_id"] not in reported), key=lambda q: q["_id"])
    dev = sorted(random.Random(DEV_SEED).sample(pool, min(1000, len(pool))), key=lambda q: q["_id"])
    wanted = {q["_id"] for q in dev}
    return dev, [r for r in every.qrels if r[0] in wanted], every


_TERMS = """
select d.ord, t.term, t.frequency
  from pg_catalog.unnest(%(texts)s::text[]) with ordinality d(txt, ord)
 cross join lateral collab.search_field_terms(d.txt) t
"""
_PAIRS = _TERMS.replace(
    "collab.search_field_terms(d.txt)", "collab.search_pair_terms(collab.search_lexemes(d.txt))"
)
_QUERY_TERMS = _TERMS.replace(
    "collab.search_field_terms(d.txt)", "collab.search_query_terms(d.txt)"
)


def name_of(title: str) -> str:
    """collab.search_terms' name field: the title after its last "." (all of it without one)."""
    return title.rsplit(".", 1)[-1]


def lead_of(body: str, chars: int) -> str:
    """collab.search_terms' lead field: the body's first ``chars`` characters, cut back to a
    whole word (``regexp_replace(left(body, chars + 1), '\\S*$', '')``)."""
    return body if len(body) <= chars else re.sub(r"\S*\Z", "", body[: chars + 1])


def field_texts(doc: dict[str, str], field: str) -> str:
    title, body = doc.get("title") or "", doc.get("text") or ""
    field = field.replace("pairs", "")  # a pair field's text is its field's
    if field == "title":
        return title
    if field == "name":
        return name_of(title)
    if field == "path":
        return doc.get("path") or ""
    if field == "body":
        return body
    return lead_of(body, int(field.removeprefix("lead")))


def field_terms(
    conn: psycopg.Connection, texts: list[str], query: str = _TERMS
) -> list[dict[str, float]]:
    """Each text's terms (collab.search_field_terms), or with ``_PAIRS`` its word pairs
    (collab.search_pair_terms), or with ``_QUERY_TERMS`` both, as a query's."""
    out: list[dict[str, float]] = [{} for _ in texts]
    for start in range(0, len(texts), 1000):
        for ord_, term, freq in conn.execute(query, {"texts": texts[start : start + 1000]}):
            out[start + ord_ - 1][term] = out[start + ord_ - 1].get(term, 0.0) + float(freq)
    return out


class Prepared:
    """One collection (docs, with per-field term frequencies) and its dev queries."""

    def __init__(self, conn, docs, queries, qrels):
        self.ids = [d["_id"] for d in docs]
        fields = [field_terms(conn, [field_texts(d, f) for d in docs]) for f in FIELDS]
        fields += [
            field_terms(conn, [field_texts(d, f) for d in docs], _PAIRS) for f in PAIR_FIELDS
        ]
        # a query's terms: its words and its word pairs, as collab.search_rank takes them
        qterms = field_terms(conn, [q["text"] for q in queries], _QUERY_TERMS)
        vocab: dict[str, int] = {}
        for rows in [*fields, qterms]:
            for row in rows:
                for t in row:
                    vocab.setdefault(t, len(vocab))

        def matrix(rows):
            r, c, v = [], [], []
            for i, row in enumerate(rows):
                for t, f in row.items():
                    r.append(i), c.append(vocab[t]), v.append(f)
            return sparse.csr_matrix((v, (r, c)), shape=(len(rows), len(vocab)))

        self.fields = {
            f: matrix(rows) for f, rows in zip((*FIELDS, *PAIR_FIELDS), fields, strict=True)
        }
        self.q = matrix(qterms)
        index = {d: i for i, d in enumerate(self.ids)}
        rel: dict[str, set[int]] = {}
        for qid, did, score in qrels:
            if score > 0 and did in index:
                rel.setdefault(qid, set()).add(index[did])
        self.relevant = [rel.get(q["_id"], set()) for q in queries]
        gold = np.zeros((len(self.ids), len(queries)), dtype=bool)  # docs x queries
        for j, docs_ in enumerate(self.relevant):
            gold[list(docs_), j] = True
        self.gold = gold

    def evaluate(self, k1: float, b: float, weights: dict[str, float]) -> dict[str, float]:
        tf = sum(w * self.fields[f] for f, w in weights.items() if w).tocsr()
        tf.eliminate_zeros()
        n = tf.shape[0]
        dl = np.asarray(tf.sum(axis=1)).ravel()
        avgdl = max(dl.sum() / max(n, 1), 1e-9)
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        part = tf.copy()
        rows = np.repeat(np.arange(n), np.diff(tf.indptr))
        part.data = tf.data * (k1 + 1) / (tf.data + k1 * (1 - b + b * dl[rows] / avgdl))
        qw = self.q.multiply(idf[None, :]).multiply(df[None, :] > 0).tocsr()
        scores = (part @ qw.T).toarray()  # docs x queries
        best = np.where(self.gold, scores, -np.inf).max(axis=0)  # the best gold document's score
        rank = 1 + ((scores >= best[None, :]) & ~self.gold).sum(axis=0)  # ties against the gold
        hits3 = float((rank <= 3).sum())
        mrr = float(np.where(rank <= 10, 1 / rank, 0).sum())
        return {"hit@3": hits3 / len(self.relevant), "mrr@10": mrr / len(self.relevant)}


def dump(out: dict) -> str:
    """The tuning report as JSON, one grid point per line."""
    rows = out["results"]
    head = json.dumps({**out, "results": []}, indent=1)
    body = ",\n".join("  " + json.dumps(r) for r in rows)
    return head.replace('"results": []', '"results": [\n' + body + "\n ]") + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "search" / "tuning.json")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "bench" / "search"))
    import run_eval

    url = run_eval.fresh_database()
    docs_set = search_sets.build_docs_set()
    dev_ids, test_ids = docs_split([q["_id"] for q in docs_set.queries])
    code_dev, code_qrels, code_all = code_dev_queries()
    corpus = {d["_id"]: d for d in code_all.corpus}
    with psycopg.connect(url, autocommit=True) as conn:
        docs = Prepared(
            conn,
            docs_set.corpus,
            [q for q in docs_set.queries if q["_id"] in dev_ids],
            [r for r in docs_set.qrels if r[0] in dev_ids],
        )
        batch = [corpus[r[1]] for r in code_qrels]  # the 1000-batch: the dev queries' gold
        code = Prepared(conn, batch, code_dev, code_qrels)
    keys = tuple(GRID)
    points = {
        # no lead and no lead pairs: the lead's length does not matter
        (k1, b, tw, nw, lc if lw or lpw else 0, lw, lpw, tpw)
        for k1, b, tw, nw, lc, lw, lpw, tpw in itertools.product(*GRID.values())
    }
    grid = []
    for point in sorted(points):
        k1, b, tw, nw, lc, lw, lpw, tpw = point
        weights = {
            "title": tw,
            "name": nw,
            "path": 1,
            "body": 1,
            f"lead{lc}": lw,
            f"leadpairs{lc}": lpw,
            "titlepairs": tpw,
        }
        d, c = docs.evaluate(k1, b, weights), code.evaluate(k1, b, weights)
        grid.append(
            {
                **dict(zip(keys, point, strict=True)),
                "docs_dev": d,
                "code_dev": c,
                "mean_hit@3": (d["hit@3"] + c["hit@3"]) / 2,
                "mean_mrr@10": (d["mrr@10"] + c["mrr@10"]) / 2,
            }
        )

    def objective(g: dict) -> tuple:
        return (round(g["mean_hit@3"], 9), round(g["mean_mrr@10"], 9), *(-g[k] for k in keys))

    grid.sort(key=objective, reverse=True)
    best = grid[0]
    out = {
        "protocol": "parameters chosen on dev queries only; the reported queries are never scored here",
        "dev_seed": DEV_SEED,
        "code_dev": {
            "queries": len(code_dev),
            "drawn_from": "eligible C-stdlib queries not in the reported sample",
            "query_ids": [q["_id"] for q in code_dev],
        },
        "docs_dev": {"queries": len(dev_ids), "query_ids": sorted(dev_ids)},
        "docs_test": {"queries": len(test_ids), "query_ids": sorted(test_ids)},
        "grid": GRID,
        "objective": "mean of the two dev hit@3 (ties: mean dev MRR@10)",
        "chosen": {k: best[k] for k in (*keys, "docs_dev", "code_dev")},
        "points": len(grid),
        # the grid has tens of thousands of points: for every value of every parameter the
        # best point with it, and the best TOP points overall, best first
        "best_by_value": {
            k: {
                str(v): next(g for g in grid if g[k] == v)
                for v in dict.fromkeys(g[k] for g in grid)
            }
            for k in keys
        },
        "results": grid[:TOP],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump(out), encoding="utf-8")
    for g in grid[:8]:
        print(
            *(g[k] for k in keys),
            round(g["docs_dev"]["hit@3"], 3),
            round(g["code_dev"]["hit@3"], 3),
        )
    print("chosen", out["chosen"])


if __name__ == "__main__":
    main()
