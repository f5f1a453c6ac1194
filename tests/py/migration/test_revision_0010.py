"""Revision 0010 takes the word pairs out of the search vocabulary (their document frequency is
counted from the postings) and compresses documents with lz4; rankings are the same before,
after, and after going down again."""

from __future__ import annotations

import random

import psycopg

from collab import migrate
from collab.client import Client

WORDS = [f"w{chr(97 + i)}{chr(97 + j)}" for i in range(5) for j in range(5)]

PAIR_ROWS = "select count(*) from collab.search_vocabulary where strpos(term, ' ') > 0"
# Every term's document frequency against its postings: rows of the vocabulary that disagree,
# and terms with postings but no vocabulary row (words only, or words and pairs).
DISAGREE = """
select count(*) from collab.search_vocabulary v
 where v.document_frequency <> (select count(*) from collab.search_postings p
                                 where p.collection = v.collection and p.term = v.term)
"""
MISSING = """
select count(distinct p.term) from collab.search_postings p
 where (%(pairs)s or strpos(p.term, ' ') = 0)
   and not exists (select 1 from collab.search_vocabulary v
                    where v.collection = p.collection and v.term = p.term)
"""


def rankings(url: str, queries: list[str]) -> list[list[tuple[str, float]]]:
    with Client(url, max_size=1) as c:
        return [
            [
                (h["key"], round(float(h["score"]), 9))
                for h in c.search("m", q, k=10, highlights=False)
            ]
            for q in queries
        ]


def one(url: str, query: str, params: dict[str, object] | None = None) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def count(url: str, query: str, params: dict[str, object] | None = None) -> int:
    value = one(url, query, params)
    assert isinstance(value, int)
    return value


def test_pairs_leave_the_vocabulary_and_come_back_with_the_same_rankings(fresh_db: str) -> None:
    rng = random.Random(10)
    docs = [
        {"key": f"d{i}", "body": " ".join(rng.choices(WORDS, k=rng.randint(3, 30)))}
        for i in range(600)
    ]
    queries = [" ".join(rng.choices(WORDS, k=rng.randint(2, 6))) for _ in range(30)]
    migrate.up(fresh_db, "0009")
    with Client(fresh_db, max_size=1) as c:
        c.index_documents("m", docs[:400])
    before = rankings(fresh_db, queries)
    assert count(fresh_db, PAIR_ROWS) > 0, "0009 keeps word pairs in the vocabulary"
    assert any(len(r) > 1 for r in before)

    migrate.up(fresh_db, "0010")
    assert count(fresh_db, PAIR_ROWS) == 0
    assert count(fresh_db, MISSING, {"pairs": False}) == 0
    assert rankings(fresh_db, queries) == before
    assert (
        one(
            fresh_db,
            "select string_agg(attcompression::text, '' order by attname) from pg_attribute"
            " where attrelid = 'collab.search_documents'::regclass and attname in ('body', 'terms')",
        )
        == "ll"
    )

    # Indexed and replaced under 0010: still no pair rows, the same ranking as 0009 computes.
    with Client(fresh_db, max_size=1) as c:
        c.index_documents("m", docs[400:])
        c.index_documents("m", [{"key": "d7", "body": "wa wb wc wd we"}, *docs[:50]])
    assert count(fresh_db, PAIR_ROWS) == 0
    after = rankings(fresh_db, queries)

    migrate.down(fresh_db, "0009")
    assert count(fresh_db, PAIR_ROWS) > 0
    assert count(fresh_db, DISAGREE) == 0
    assert count(fresh_db, MISSING, {"pairs": True}) == 0
    assert rankings(fresh_db, queries) == after
