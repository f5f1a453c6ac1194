"""The event stream over several real connections: gap-free cursors under interleaved
transactions, subscriptions (sync and async) woken by ``collab_events:<workspace_id>``, filters,
presence, and retention (PT410 ``cursor_expired``)."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from helpers import follow
from psycopg import sql

from collab.client import Client, Event, Gone

Row = tuple[Any, ...]


@pytest.fixture(scope="module")
def client(db_url: str) -> Iterator[Client]:
    with Client(db_url, max_size=4) as c:
        yield c


def follow_until(
    client: Client, cursor: str | None, count: int, timeout: float = 15.0, **filters: Any
) -> tuple[list[Event], str | None]:
    """Follow until ``count`` events came (any transaction on the cluster older than the
    writers, a rollup for example, holds events back until it ends), then once more."""
    out: list[Event] = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        page, cursor = follow(client, cursor, **filters)
        out += page
        if len(out) < count:
            time.sleep(0.05)
    page, cursor = follow(client, cursor, **filters)
    return out + page, cursor


def head(client: Client) -> str | None:
    return follow(client, None)[1]


def enqueue_in(conn: psycopg.Connection[Row], queue: str, n: int) -> list[int]:
    return [
        int(r[0])
        for r in conn.execute(
            "select (api.enqueue(%s, 't')).id from generate_series(1, %s)", [queue, n]
        ).fetchall()
    ]


def test_interleaved_transactions_deliver_each_committed_event_once_in_cursor_order(
    client: Client, db_url: str
) -> None:
    client.enqueue("inter", "t")  # the queue row exists: T2 must not wait for T1 to create it
    _, cursor = follow_until(client, None, 1, queue="inter")
    with (
        psycopg.connect(db_url) as t1,
        psycopg.connect(db_url) as t2,
        psycopg.connect(db_url) as t3,
    ):
        long_jobs = enqueue_in(t1, "inter", 3)  # T1 takes the lower ids and stays open
        short_jobs = enqueue_in(t2, "inter", 2)
        t2.commit()  # T2 commits first, with higher ids
        doomed = enqueue_in(t3, "inter", 2)

        seen, cursor = follow(client, cursor, queue="inter")
        assert seen == [], "T2's events wait while the older T1 is open (else T1's could be missed)"

        t1.commit()
        t3.rollback()
        more, cursor = follow_until(client, cursor, 5, queue="inter")
        seen += more

    ids = [e.job_id for e in seen]
    assert sorted(ids, key=lambda i: i or 0) == sorted(long_jobs + short_jobs)
    assert len(ids) == len(set(ids)) == 5, "each committed event exactly once"
    assert not set(ids) & set(doomed), "nothing from a rolled-back transaction"
    keys = [tuple(int(p) for p in e.cursor.split(":")) for e in seen]
    assert keys == sorted(keys), "delivered in cursor order"
    assert ids[:3] == long_jobs, "T1 (lower xid) before T2 in the stream, though it committed later"


def test_random_interleavings_with_a_live_reader_lose_and_repeat_nothing(
    client: Client, db_url: str
) -> None:
    client.enqueue("storm", "t")
    _, cursor = follow_until(client, None, 1, queue="storm")
    committed: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    delivered: list[Event] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        with psycopg.connect(db_url) as conn:
            for _ in range(25):
                ids = enqueue_in(conn, "storm", rng.randint(1, 3))
                time.sleep(rng.random() * 0.02)  # long and short transactions
                if rng.random() < 0.25:
                    conn.rollback()
                else:
                    conn.commit()
                    with lock:
                        committed.extend(ids)

    def reader() -> None:
        nonlocal cursor
        while not stop.is_set():
            page, cursor = follow(client, cursor, queue="storm")
            delivered.extend(page)
            time.sleep(0.005)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    read = threading.Thread(target=reader)
    read.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.1)
    stop.set()
    read.join()
    with lock:
        expected = len(committed)
    rest, _ = follow_until(client, cursor, expected - len(delivered), queue="storm")
    delivered += rest

    ids = [e.job_id for e in delivered]
    assert len(ids) == len(set(ids)), "no event twice"
    assert set(ids) == set(committed), "every committed event, none rolled back"
    keys = [tuple(int(p) for p in e.cursor.split(":")) for e in delivered]
    assert keys == sorted(keys)


def test_subscribe_catches_up_then_is_woken_by_the_events_notification(client: Client) -> None:
    start = head(client)
    first = client.enqueue("subs", "t")
    # poll_seconds far above the wait below: only the notification can deliver in time.
    with client.subscribe(cursor=start, queue="subs", poll_seconds=30) as sub:
        assert next(sub).job_id == first.id, "catch-up from the cursor"

        def later() -> None:
            time.sleep(0.3)
            client.enqueue("subs", "t")

        threading.Thread(target=later).start()
        began = time.monotonic()
        live = next(sub)
        assert live.type == "enqueued" and live.job_id != first.id
        assert time.monotonic() - began < 5, "woken by the events channel, not by the poll"
        assert sub.cursor == live.cursor


def listen_events(listener: psycopg.Connection[Row], client: Client) -> str:
    """LISTEN on the events channel of the client's workspace; its name."""
    channel = str(client.whoami()["events_channel"])
    listener.execute(sql.SQL("listen {}").format(sql.Identifier(channel)))
    return channel


def test_updates_notify_collab_events_once_per_statement(client: Client, db_url: str) -> None:
    ex = client.register_executor("notify-probe", ["note"])
    for _ in range(3):
        client.enqueue("note", "t")
    time.sleep(0.1)  # past the 50 ms window of collab.notify_events
    with psycopg.connect(db_url, autocommit=True) as listener:
        channel = listen_events(listener, client)
        claimed = client.claim(ex, ["note"], max_jobs=3)
        assert len(claimed) == 3
        notes = list(listener.notifies(timeout=1.0))
    assert [n.channel for n in notes] == [channel], "one claim statement: one wake-up"


def test_a_burst_notifies_once_yet_every_event_arrives_at_once(db_url: str) -> None:
    with Client(db_url, max_size=1) as one, Client(db_url, max_size=1) as reader:
        one.enqueue("burst", "t")
        time.sleep(0.1)
        with (
            psycopg.connect(db_url, autocommit=True) as listener,
            reader.subscribe(queue="burst", poll_seconds=30) as sub,
        ):
            assert next(sub).type == "enqueued"
            listen_events(listener, one)
            began = time.monotonic()
            ids = [one.enqueue("burst", "t").id for _ in range(5)]  # one session, < 50 ms
            got = [next(sub).job_id for _ in range(5)]
            elapsed = time.monotonic() - began
            notes = list(listener.notifies(timeout=0.2))
    assert got == ids
    assert elapsed < 5, "delivered by the wake-up and the re-reads after it, not the 30 s poll"
    assert 1 <= len(notes) < 5, "the session notified once per 50 ms, not once per transaction"


def test_asubscribe_follows_live_with_filters(client: Client) -> None:
    start = head(client)
    job = client.enqueue("asub", "t")
    client.enqueue("other-queue", "t")

    async def run() -> list[Event]:
        got: list[Event] = []
        async with client.asubscribe(cursor=start, job_id=job.id, poll_seconds=30) as sub:
            got.append(await sub.__anext__())
            ex = await asyncio.to_thread(client.register_executor, "asub-worker", ["asub"])
            await asyncio.to_thread(client.claim, ex, ["asub"], 1)
            got.append(await asyncio.wait_for(sub.__anext__(), timeout=5))
        return got

    got = asyncio.run(run())
    assert [(e.job_id, e.type) for e in got] == [(job.id, "enqueued"), (job.id, "claimed")]


def test_subscribe_types_filter_and_presence_events(client: Client) -> None:
    start = head(client)
    ex = client.register_executor("presence-stream", ["pres"])
    with client.subscribe(cursor=start, types=["executor_online"], poll_seconds=0.2) as sub:
        event = next(e for e in sub if e.executor_id == ex)
    assert (event.type, event.job_id) == ("executor_online", None)
    listed = {x.name: x for x in client.list_executors()}
    assert listed["presence-stream"].status == "online"


def test_a_cursor_behind_retention_is_gone(client: Client, db_url: str) -> None:
    old = client.enqueue("ret", "t")
    cursor_of_old = follow(client, None, job_id=old.id)[0][0].cursor
    client.enqueue("ret", "t")
    with psycopg.connect(db_url, autocommit=True) as admin:
        # Everything so far has been rolled up into metrics (purge never outruns the rollup).
        admin.execute(
            "update collab.metrics_rollup_state set horizon = pg_snapshot_xmin(pg_current_snapshot())"
        )
    purged = client.purge_events(timedelta(0), batch_size=3)
    assert purged > 0
    with pytest.raises(Gone) as info:
        client.events_since(cursor_of_old)
    assert info.value.reason == "cursor_expired"
    assert info.value.status == 410
    with pytest.raises(Gone), client.subscribe(cursor=cursor_of_old) as sub:
        next(sub)
    assert len(client.events_since(None)) >= 1, "the newest event is always kept"


def kill_subscribers(db_url: str) -> int:
    with psycopg.connect(db_url, autocommit=True) as admin:
        row = admin.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity"
            " where application_name = 'collab-subscribe' and datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def test_subscriptions_reconnect_and_resume_without_loss_or_repeat(
    client: Client, db_url: str
) -> None:
    first = [client.enqueue("reconnect", "t").id for _ in range(3)]
    with client.subscribe(queue="reconnect", poll_seconds=0.2) as sub:
        got = [next(sub).job_id for _ in range(3)]
        assert kill_subscribers(db_url) == 1
        second = [client.enqueue("reconnect", "t").id for _ in range(3)]
        got += [next(sub).job_id for _ in range(3)]
        assert sub.reconnects >= 1

    async def run() -> list[int | None]:
        out: list[int | None] = []
        async with client.asubscribe(queue="reconnect", poll_seconds=0.2) as asub:
            for _ in range(6):
                out.append((await asyncio.wait_for(asub.__anext__(), 10)).job_id)
            assert kill_subscribers(db_url) == 1
            await asyncio.to_thread(client.enqueue, "reconnect", "t")
            out.append((await asyncio.wait_for(asub.__anext__(), 10)).job_id)
            assert asub.reconnects >= 1
        return out

    assert got == first + second, "each event once, in order, across the reconnect"
    again = asyncio.run(run())
    assert again[:6] == first + second
    assert len(set(again)) == 7
