"""The event stream's partitions (revision 0029), with transactions that commit.

collab.ensure_event_partitions makes ranges of xid as the next xid moves on, marks those it has
passed full, starts a range above every xid already taken (what the default partition took
before the first range or while upkeep was behind stays there, and an event waiting for the
default while a range is made lands), and leaves its work to the next call when the default
partition is busy. collab.purge_events drops the oldest whole ranges that are full, rolled up
and older than the cutoff with the default's events below them, never the newest event's (a
prefix of the stream), and refuses with 55P03 when a reader holds the stream; a
cursor whose event went is refused with PT410 and one in a kept range goes on. tests/sql/208
holds what one transaction can show.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import psycopg
import pytest
from helpers import acting_in, follow, wait_for

from collab.api_core import ApiError

WS = "00000000-0000-0000-0000-000000000001"

PARTS = """
select p.partition::text, p.from_xid::text, p.to_xid::text, p.full_at is not null,
       (select count(*) from collab.job_events e where e.tableoid = p.partition)
  from collab.event_partitions() p
"""


def parts(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """(partition, from_xid, to_xid, full, events) of every partition, oldest first."""
    return [tuple(r) for r in conn.execute(PARTS).fetchall()]


def burn(conn: psycopg.Connection[Any], n: int) -> None:
    """n transactions that take an xid and commit: the next xid moves n on."""
    for _ in range(n):
        conn.execute("select pg_current_xact_id()")


def enqueue(url: str, n: int) -> None:
    """n jobs, one transaction each (an event each, in the current range)."""
    with acting_in(url, WS) as client:
        for _ in range(n):
            client.enqueue("evp", "t")


def burn_to(conn: psycopg.Connection[Any], xid: int) -> None:
    """Transactions that take an xid until the next xid is at least xid."""
    while True:
        row = conn.execute("select pg_snapshot_xmax(pg_current_snapshot())::text").fetchone()
        assert row is not None
        if int(row[0]) >= xid:
            return
        burn(conn, min(100, xid - int(row[0])))


def ensure(conn: psycopg.Connection[Any], width: int = 10) -> int:
    row = conn.execute("select collab.ensure_event_partitions(width => %s)", [width]).fetchone()
    assert row is not None
    return int(row[0])


def newest_xid(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("select max(xid::text::bigint) from collab.job_events").fetchone()
    assert row is not None
    return int(row[0])


def test_ranges_follow_the_next_xid_and_start_above_what_the_default_held(own_db: str) -> None:
    """Width 100: a range is made when less than 50 xids are left in the last one, and starts
    a margin of 25 above the next xid when the last one ends closer than that (or there is
    none)."""
    with psycopg.connect(own_db, autocommit=True) as conn:
        enqueue(own_db, 3)
        assert ensure(conn, 100) == 1
        first = parts(conn)
        assert [(p[0] == f"collab.job_events_{p[1]}", p[2] is not None, p[4]) for p in first] == [
            (True, True, 0),
            (False, False, 3),
        ], "the first range, above the xids taken: the default partition keeps its 3 events"
        assert int(first[0][1]) > newest_xid(conn) + 20
        assert ensure(conn, 100) == 0, "more than half the width ahead: nothing made"

        burn(conn, 80)
        assert ensure(conn, 100) == 1
        now = parts(conn)
        assert now[1][1] == now[0][2], "the next range starts where the first ends"
        assert [p[3] for p in now] == [False, False, False]
        burn(conn, 60)
        assert ensure(conn, 100) == 0
        assert [p[3] for p in parts(conn)] == [True, False, False], (
            "the first range is full: the next xid passed its end"
        )

        # Upkeep falls behind: jobs past every range go to the default partition, and stay
        # there: the range made next starts above them.
        burn(conn, 150)
        enqueue(own_db, 25)
        held = next(p for p in parts(conn) if p[0] == "collab.job_events_default")[4]
        assert held == 28, "past every range: the default partition"
        assert ensure(conn, 100) == 1
        after = parts(conn)
        assert after[-1] == ("collab.job_events_default", None, None, False, 28)
        assert sum(p[4] for p in after) == 28, "no event lost or doubled"
        assert int(after[-2][1]) > newest_xid(conn), "the new range starts above them"
        assert int(after[-2][1]) > int(after[-3][2]), "a gap the default partition covers"


def test_retention_drops_the_oldest_whole_ranges_and_the_stream_goes_on(own_db: str) -> None:
    with psycopg.connect(own_db, autocommit=True) as conn:
        enqueue(own_db, 4)  # before the first range: in the default partition
        assert ensure(conn, 100) == 1
        cursors: list[str] = []
        for i in range(3):  # three ranges of 4 events each, full when the next is made
            burn_to(conn, int(parts(conn)[i][1]))
            enqueue(own_db, 4)
            with acting_in(own_db, WS) as client:
                cursors.append(follow(client, None)[1] or "")
            burn_to(conn, int(parts(conn)[i][2]) - 40)
            assert ensure(conn, 100) == 1, "40 xids left in the range: the next one is made"
            burn_to(conn, int(parts(conn)[i][2]))
            assert ensure(conn, 100) == 0
            assert parts(conn)[i][3] is True, "its end passed: full"
        enqueue(own_db, 1)  # the newest events, in the range made last
        with acting_in(own_db, WS) as client:
            kept = follow(client, None)[1] or ""
        enqueue(own_db, 1)
        conn.execute("select collab.metrics_rollup()")
        before = parts(conn)
        ranges = [p for p in before if p[2] is not None]
        assert all(a[2] == b[1] for a, b in itertools.pairwise(ranges)), "contiguous"
        events = sum(p[4] for p in before)
        assert events == 18

        assert conn.execute("select collab.purge_events('7 days')").fetchone() == (0,), (
            "full, rolled up, but not 7 days old: kept"
        )
        conn.execute("set collab.clock_offset = '10 days'")
        dropped = [p for p in before if p[3] and p[2] is not None]
        below = conn.execute(
            "select count(*) from collab.job_events_default where xid < %s::xid8",
            [dropped[-1][2]],
        ).fetchone()
        assert below == (4,), "the events before the first range, in the default partition"
        removed = conn.execute("select collab.purge_events('7 days')").fetchone()
        assert removed == (sum(p[4] for p in dropped) + 4,), (
            "every full range, its events counted, and the default's events below them"
        )
        assert conn.execute("select collab.purge_events('7 days')").fetchone() == (0,)
        after = parts(conn)
        assert [p[0] for p in after] == [p[0] for p in before if p not in dropped]
        assert after[-1][4] == 0, "the default partition kept nothing below the kept ranges"
        assert all(p[4] for p in after if p[0] == after[0][0]), "the newest events are kept"
        row = conn.execute(
            "select count(*), min(xid::text::numeric) >= %s::numeric from collab.job_events",
            [after[0][1]],
        ).fetchone()
        assert row == (2, True), "what is left is the stream after the dropped prefix"
        conn.execute("reset collab.clock_offset")
        assert conn.execute("select count(*) from collab.check_invariants()").fetchone() == (0,)

    with acting_in(own_db, WS) as client:
        with pytest.raises(ApiError) as expired:
            client.events_since(cursors[0])
        assert expired.value.reason == "cursor_expired"
        with pytest.raises(ApiError) as expired:
            client.events_since(cursors[-1])
        assert expired.value.reason == "cursor_expired", "the last event of a dropped range too"
        rest, _ = follow(client, kept)
        assert len(rest) == 1, "a cursor in the kept range goes on: the event after it"


def _hold(url: str, statement: str, holding: threading.Event, release: threading.Event) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(statement)
        holding.set()
        release.wait(30)
        conn.rollback()


@pytest.mark.parametrize("busy", ["ensure", "purge"])
def test_a_busy_lock_leaves_the_work_to_the_next_call(own_db: str, busy: str) -> None:
    with psycopg.connect(own_db, autocommit=True) as conn:
        enqueue(own_db, 3)
        assert ensure(conn) == 1
        burn(conn, 12)
        conn.execute("select collab.metrics_rollup()")
        if busy == "purge":
            assert ensure(conn) == 1
            enqueue(own_db, 1)
            conn.execute("select collab.metrics_rollup()")
            conn.execute("set collab.clock_offset = '10 days'")
        # A reader of the stream (it holds every partition) in a transaction left open.
        holding, release = threading.Event(), threading.Event()
        holder = threading.Thread(
            target=_hold,
            args=(own_db, "select count(*) from collab.job_events", holding, release),
        )
        holder.start()
        try:
            assert holding.wait(30)
            started = time.monotonic()
            if busy == "ensure":
                assert ensure(conn) == 0, "the default partition is busy: nothing made"
            else:
                with pytest.raises(psycopg.errors.LockNotAvailable):
                    conn.execute("select collab.purge_events('7 days')")
            assert time.monotonic() - started < 2, "it waited 200 ms, not for the reader"
            assert len(parts(conn)) == (2 if busy == "ensure" else 3), "nothing changed"
        finally:
            release.set()
            holder.join(30)
        if busy == "ensure":
            assert ensure(conn) == 1, "the next call makes it"
        else:
            assert conn.execute("select collab.purge_events('7 days')").fetchone() == (3,)


def test_a_busy_range_is_marked_full_by_a_later_call(own_db: str) -> None:
    with psycopg.connect(own_db, autocommit=True) as conn:
        enqueue(own_db, 1)
        assert ensure(conn) == 1
        burn(conn, 12)
        # An autovacuum of the range holds SHARE UPDATE EXCLUSIVE, as this session does.
        holding, release = threading.Event(), threading.Event()
        holder = threading.Thread(
            target=_hold,
            args=(
                own_db,
                f"lock table {parts(conn)[0][0]} in share update exclusive mode",
                holding,
                release,
            ),
        )
        holder.start()
        try:
            assert holding.wait(30)
            started = time.monotonic()
            assert ensure(conn) == 1, "the next range is made all the same"
            assert time.monotonic() - started < 2
            assert parts(conn)[0][3] is False, "the busy range is not marked full yet"
        finally:
            release.set()
            holder.join(30)
        assert ensure(conn) == 0
        assert parts(conn)[0][3] is True, "the next call marks it"


@pytest.mark.parametrize("case", ["first", "behind"])
def test_an_event_waiting_while_a_range_is_made_lands(own_db: str, case: str) -> None:
    """A transaction whose xid no range covers (before the first range; upkeep behind) writes
    its event into the default partition. If that insert waits for the default's lock while
    a range is made, Postgres checks the default's new bounds once it has the lock: the range
    starts above every xid taken before it was made, so the event still belongs there and
    the transaction commits (a range covering its xid made the insert fail with a
    partition-constraint error, and the job change with it)."""
    with psycopg.connect(own_db, autocommit=True) as conn:
        if case == "behind":
            assert ensure(conn, 1000) == 1
            burn(conn, 1400)  # past the range (a margin of 250 above the next xid, 1,000 wide)
        with psycopg.connect(own_db) as writer, psycopg.connect(own_db) as maker:
            writer.execute(
                "select set_config('request.jwt.claims', %s, true)",
                [f'{{"role": "service_role", "workspace_id": "{WS}"}}'],
            )
            row = writer.execute("select pg_current_xact_id()::text").fetchone()
            assert row is not None
            xid = int(row[0])
            assert maker.execute(
                "select collab.ensure_event_partitions(width => 1000)"
            ).fetchone() == (1,)
            made = maker.execute(
                "select from_xid::text from collab.event_partitions()"
                " where to_xid is not null order by to_xid desc limit 1"
            ).fetchone()
            assert made is not None and made[0] is not None and int(made[0]) > xid, (
                "the new range starts above the xid already taken"
            )
            failed: list[BaseException] = []

            def write() -> None:
                try:
                    writer.execute("select api.enqueue('evp', 't')")
                    writer.commit()
                except BaseException as exc:  # reported below
                    failed.append(exc)

            pid = writer.info.backend_pid
            t = threading.Thread(target=write)
            t.start()
            try:
                wait_for(
                    lambda: (
                        conn.execute(
                            "select wait_event_type = 'Lock' from pg_stat_activity where pid = %s",
                            [pid],
                        ).fetchone()
                        == (True,)
                    ),
                    10,
                    "the event's insert waiting for the default partition",
                )
            finally:
                maker.commit()
                t.join(30)
            assert not failed, failed
        places = conn.execute(
            "select e.tableoid::regclass::text from collab.job_events e"
            " where e.xid = %s::text::xid8",
            [xid],
        ).fetchall()
        assert places and places == [("collab.job_events_default",)] * len(places), (
            "the event is in the default partition, whose bounds still take its xid"
        )
        assert conn.execute("select count(*) from collab.check_invariants()").fetchone() == (0,)


def test_a_range_is_sized_by_the_rate_since_the_last_one_made(own_db: str) -> None:
    """Without a width, a range holds `span` of transactions at the rate since the range made
    last (at least 2^16 xids): here the xids taken over an hour (the clock moved on), scaled to
    366 days."""
    with psycopg.connect(own_db, autocommit=True) as conn:
        assert ensure(conn, 100) == 1
        row = conn.execute(
            "select made_next_xid::text::bigint from collab.event_partitions()"
            " where made_at is not null"
        ).fetchone()
        assert row is not None
        made_next = int(row[0])
        burn(conn, 40)
        conn.execute("set collab.clock_offset = '1 hour'")
        made = conn.execute(
            "select collab.ensure_event_partitions(span => interval '366 days'),"
            "       pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
        ).fetchone()
        assert made is not None and made[0] == 1
        taken = made[1] - made_next
        new = parts(conn)[-2]
        width = int(new[2]) - int(new[1])
        expected = taken * 366 * 24
        assert abs(width - expected) <= 0.01 * expected, (width, expected)
        conn.execute("set collab.clock_offset = '2 hours'")
        assert conn.execute("select collab.ensure_event_partitions()").fetchone() == (0,), (
            "more than half of that range ahead: nothing made"
        )
