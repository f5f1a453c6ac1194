"""A claim from several queues locks only the jobs it takes, and keeps the claim order when
others hold some of its candidates (revision 0031; tests/sql/199 checks the locks in one
session). Two or three real sessions: one holds its claim's transaction, or some jobs' row
locks, open while another claims."""

from __future__ import annotations

import time
import uuid
from typing import Any

import psycopg


def queues(tag: str, n: int) -> list[str]:
    stamp = time.monotonic_ns()
    return [f"sq-{tag}-{stamp}-{i}" for i in range(n)]


def executor(conn: psycopg.Connection[Any], names: list[str]) -> uuid.UUID:
    row = conn.execute("select api.register_executor('several', %s)", [names]).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def enqueue(conn: psycopg.Connection[Any], queue: str, priority: int) -> int:
    row = conn.execute(
        "select id from api.enqueue(%s, 't', priority => %s)", [queue, priority]
    ).fetchone()
    assert row is not None
    return int(row[0])


def claim(conn: psycopg.Connection[Any], ex: uuid.UUID, names: list[str], n: int) -> list[int]:
    rows = conn.execute("select id from api.claim(%s, %s, %s, 60)", [ex, names, n]).fetchall()
    return sorted(int(r[0]) for r in rows)


def test_others_take_the_jobs_a_claim_did_not_take_while_it_is_open(db_url: str) -> None:
    """A claims 1 job from three queues of one job each and keeps its transaction open; B's
    claim of 3 from the same queues then gets the other two. Before 0031 A held all three
    until its commit, and B got none."""
    names = queues("open", 3)
    with (
        psycopg.connect(db_url, autocommit=True) as setup,
        psycopg.connect(db_url) as a,
        psycopg.connect(db_url, autocommit=True) as b,
    ):
        ex = executor(setup, names)
        best = enqueue(setup, names[0], 5)
        others = sorted(enqueue(setup, q, 0) for q in names[1:])
        assert claim(a, ex, names, 1) == [best]  # a's transaction stays open
        assert claim(b, ex, names, 3) == others
        a.rollback()


def test_a_claim_under_contention_keeps_the_claim_order(db_url: str) -> None:
    """H holds the row locks of queue x's two best jobs. A claim of 2 from x and y reads each
    queue's first two (x1, x2, y1, y2), finds x1 and x2 held and would lock y1 and y2; x3,
    past x's first two, comes before y2 in the claim order, so the claim makes its pick again
    and takes x3 and y1."""
    x, y = queues("order", 2)
    with (
        psycopg.connect(db_url, autocommit=True) as setup,
        psycopg.connect(db_url) as h,
        psycopg.connect(db_url) as a,
    ):
        ex = executor(setup, [x, y])
        x1, x2, x3 = (enqueue(setup, x, p) for p in (9, 8, 7))
        y1, _y2 = (enqueue(setup, y, p) for p in (1, 0))
        h.execute("select id from collab.jobs where id = any(%s) for update", [[x1, x2]])
        assert claim(a, ex, [x, y], 2) == sorted([x3, y1])
        a.commit()
        h.rollback()
        # x1 and x2 are still there for the next claim.
        with psycopg.connect(db_url, autocommit=True) as c:
            assert claim(c, ex, [x, y], 2) == sorted([x1, x2])


def locked_not_taken(conn: psycopg.Connection[Any], names: list[str]) -> int:
    row = conn.execute(
        "select count(*) from collab.jobs where queue = any(%s) and status = 'queued'"
        " and xmax = pg_current_xact_id()::xid",
        [names],
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_after_meeting_contention_a_session_picks_as_before_for_a_second(db_url: str) -> None:
    """A claim that had to make its pick again (others held a candidate ahead of the last one
    it locked) makes the session's claims of the same queues take the old pick for a second:
    each queue's first jobs locked, the best taken. After that second, only what it takes."""
    x, y = queues("adapt", 2)
    with (
        psycopg.connect(db_url, autocommit=True) as setup,
        psycopg.connect(db_url) as h,
        psycopg.connect(db_url) as a,
    ):
        ex = executor(setup, [x, y])
        x1, x2 = (enqueue(setup, x, p) for p in (9, 8))
        for p in (1, 0, 0, 0):
            enqueue(setup, y, p)
        h.execute("select id from collab.jobs where id = %s for update", [x1])
        assert claim(a, ex, [x, y], 1) == [x2]  # x1 held: the pick is made again
        a.commit()
        h.rollback()
        assert claim(a, ex, [x, y], 1) == [x1]
        assert locked_not_taken(a, [x, y]) == 1, "the old pick: y's first job locked, not taken"
        a.commit()
        time.sleep(1.1)
        assert len(claim(a, ex, [x, y], 1)) == 1
        assert locked_not_taken(a, [x, y]) == 0, "a second later: only the job it takes"
        a.commit()
