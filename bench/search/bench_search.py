"""Search latency and indexing throughput (issue 16).

Usage: ``python bench/search/bench_search.py [--docs 15000] [--queries 500]``

On the test cluster (``COLLAB_PG_DIR``/``COLLAB_PG_PORT``, as ``make search-eval``) it makes a
scratch database ``collab_bench_search``, migrates it, and from one client (autocommit, the
direct service client):

* indexes real documents through ``api.index_documents`` in batches of 500 and reports
  documents/s and MB/s, in all and per source: the functions of the Debian python3.11 standard
  library (C-stdlib's corpus), then the PostgreSQL manual's pages (D-pg's), then the reST
  sources and the HTML pages of python3.11-doc, up to ``--docs`` (a batch holds one source);
* runs ``--queries`` queries (C-stdlib's and D-pg's, alternating) through ``api.search``
  (k 10, with highlights) on the full collection after ``VACUUM ANALYZE`` and reports p50,
  p95 and p99 of the client round trip.

Not part of the test run; figures go to docs/bench.md by hand with the date and the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import psycopg
from psycopg import sql

from collab import embedded, migrate, search_sets
from collab.client import Client

DATABASE = "collab_bench_search"


def documents(limit: int) -> list[dict[str, str]]:
    code = search_sets.build_code_set()
    docs = [
        {
            "key": d["_id"],
            "title": d["title"],
            "path": d.get("path", ""),
            "body": d["text"],
            "source": "C-stdlib functions",
        }
        for d in code.corpus
    ]
    pages = search_sets.build_docs_set()
    docs += [
        {
            "key": "pg:" + d["_id"],
            "title": "",
            "path": "",
            "body": d["text"],
            "source": "D-pg pages",
        }
        for d in pages.corpus
    ]
    # then python3.11-doc: its reST sources, then its HTML pages (raw), keyed by their path
    doc_files = sorted(p for p in search_sets.package_files("python3.11-doc") if p.is_file())
    for suffix in (".rst.txt", ".html"):
        for path in doc_files:
            if len(docs) >= limit:
                break
            if path.name.endswith(suffix):
                text = path.read_text(encoding="utf-8", errors="replace")[:500_000]
                docs.append(
                    {
                        "key": f"py-doc:{path}",
                        "title": path.name.removesuffix(suffix),
                        "path": path.name,
                        "body": text,
                        "source": f"python3.11-doc {suffix}",
                    }
                )
    return docs[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--docs", type=int, default=15000)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    cluster = embedded.EmbeddedPostgres()
    cluster.start()
    server = cluster.url()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DATABASE))
        )
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
    url = server.rsplit("/", 1)[0] + "/" + DATABASE
    migrate.up(url)
    docs = documents(args.docs)
    code = search_sets.build_code_set()
    pages = search_sets.build_docs_set()
    queries = [
        q["text"] for pair in zip(code.queries, pages.queries * 4, strict=False) for q in pair
    ]
    queries = queries[: args.queries]
    with Client(url, max_size=1) as client:
        per_source: dict[str, list[float]] = {}  # source: [documents, characters, seconds]
        for source in dict.fromkeys(d["source"] for d in docs):
            part = [
                {k: v for k, v in d.items() if k != "source"} for d in docs if d["source"] == source
            ]
            started = time.perf_counter()
            for start in range(0, len(part), 500):
                client.index_documents("bench", part[start : start + 500])
            per_source[source] = [
                len(part),
                sum(len(d["body"]) for d in part),
                time.perf_counter() - started,
            ]
        seconds = sum(v[2] for v in per_source.values())
        with client.pool.connection() as conn:
            conn.execute(
                "vacuum analyze collab.search_postings, collab.search_documents, collab.search_vocabulary"
            )
        for q in queries[:20]:  # warm the plan caches
            client.search("bench", q)
        latencies = []
        for q in queries:
            t0 = time.perf_counter()
            client.search("bench", q)
            latencies.append(1000 * (time.perf_counter() - t0))
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))]  # noqa: E731
    load = os.getloadavg()[0]
    print(
        f"indexed {len(docs)} documents in {seconds:.1f} s: {len(docs) / seconds:,.0f} documents/s (batches of 500)"
    )
    for source, (n, chars, secs) in per_source.items():
        print(
            f"  {source}: {n:.0f} documents, {chars / 1e6:.1f} M characters: "
            f"{n / secs:,.0f} documents/s, {chars / 1e6 / secs:.2f} M characters/s"
        )
    print(
        f"api.search over {len(docs)} documents, {len(latencies)} queries, k 10 with highlights: "
        f"p50 {statistics.median(latencies):.1f} ms, p95 {pick(0.95):.1f} ms, p99 {pick(0.99):.1f} ms "
        f"(load average {load:.1f})"
    )


if __name__ == "__main__":
    main()
