"""Concurrent indexers of one collection serialize on its row (collab.search_index locks it),
so the BM25 statistics stay exact: document_count, total_length and every document frequency
equal what the documents and postings hold, whichever batches overlapped."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from collab.client import Client


def test_concurrent_batches_keep_the_statistics_exact(db_url: str) -> None:
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa"]

    def batch(n: int) -> None:
        with Client(db_url, max_size=1) as c:
            for round_ in range(5):
                docs = [
                    {
                        "key": f"doc-{(n * 7 + round_ * 3 + i) % 40}",
                        "body": " ".join(words[(n + i + j) % 8] for j in range(n + 2)),
                    }
                    for i in range(20)
                ]
                c.index_documents("race", docs)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(batch, range(4)))
    with Client(db_url, max_size=2) as c, c.pool.connection() as conn:
        stats = conn.execute(
            "select c.document_count, round(c.total_length::numeric, 2),"
            " (select count(*) from collab.search_documents d where d.collection = c.name),"
            " (select round(sum(d.length)::numeric, 2) from collab.search_documents d where d.collection = c.name)"
            " from collab.search_collections c where c.name = 'race'"
        ).fetchone()
        assert stats is not None and stats[0] == stats[2] and stats[1] == stats[3]
        wrong = conn.execute(
            "select count(*) from collab.search_vocabulary v where v.collection = 'race' and v.document_frequency"
            " <> (select count(*) from collab.search_postings p where p.collection = v.collection"
            " and p.workspace_id = v.workspace_id and p.term = v.term)"
        ).fetchone()
        assert wrong == (0,)
        assert c.search("race", "alpha kappa", k=5), "the collection answers"
        assert stats[0] == 40
