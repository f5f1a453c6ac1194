"""Subscriptions to the event stream: catch up from a cursor, then follow live.

A subscription reads ``api.events_since`` page by page from its cursor and, once caught up,
sleeps on its workspace's channel ``collab_events:<workspace_id>`` (the events triggers notify
it once per statement; the channel comes from ``api.whoami``, asked once as the subscriber's
caller) with a poll fallback: a wake-up is only a hint, the table is the truth, so a lost
notification costs at most ``poll_seconds`` of latency, never an event. The cursor advances only when an
event is handed to the caller; when the connection drops (the database restarts, a network
blip) the subscription reconnects with backoff and resumes from that cursor, so every
committed event is delivered once, in cursor order. ``Subscription.cursor`` is the position
to persist; pass it back as ``cursor=`` to resume in another process.

A session notifies a workspace at most once per 50 ms (``collab.notify_events``: notifying
commits are serialised cluster-wide), so after any activity (a wake-up, or a read that found
events) a subscription reads again within ``HOT_SECONDS`` instead of waiting for the next
wake-up.

Errors raised by the database that are not about the connection (for example PT410
``cursor_expired``, PT400 ``invalid_input``) are raised to the caller, typed as the client
types them (``collab.client.Gone``, ...).

Claims are sent with every call, transaction-locally (``collab.api_core.execute_as``): the
subscription's connection never holds them at session level.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from collab import queries
from collab.api_core import Event, _row, aexecute_as, claims_json, execute_as, translate

# How long after activity a subscription keeps re-reading without a wake-up (longer than the
# 50 ms notification window of collab.notify_events), and how often it does meanwhile.
HOT_SECONDS = 0.25
HOT_READ_SECONDS = 0.06

# Errors after which the subscription reconnects and resumes from its cursor.
RECONNECT_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


class _Base:
    def __init__(
        self,
        dsn: str,
        *,
        cursor: str | None = None,
        queue: str | None = None,
        job_id: int | None = None,
        types: Sequence[str] | None = None,
        claims: Mapping[str, Any] | None = None,
        follow: bool = True,
        batch_size: int = 1000,
        poll_seconds: float = 2.0,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self.dsn = dsn
        self.cursor = cursor
        self.follow = follow
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.reconnects = 0
        self._claims = claims_json(claims)
        self._channel: str | None = None  # the workspace's events channel, from api.whoami
        self._params: dict[str, Any] = {
            "limit": batch_size,
            "queue": queue,
            "job_id": job_id,
            "types": None if types is None else list(types),
        }
        self._buffer: deque[Event] = deque()
        self._closed = False
        self._hot_until = 0.0

    def _query_params(self) -> dict[str, Any]:
        return {**self._params, "cursor": self.cursor}

    def _timeout(self) -> float:
        """How long to wait for a wake-up before reading again."""
        if time.monotonic() < self._hot_until:
            return min(self.poll_seconds, HOT_READ_SECONDS)
        return self.poll_seconds

    def _activity(self) -> None:
        self._hot_until = time.monotonic() + HOT_SECONDS

    def _take(self) -> Event:
        event = self._buffer.popleft()
        self.cursor = event.cursor
        return event

    def _backoff(self, failures: int) -> float:
        return float(min(self.max_backoff_seconds, 0.1 * 2 ** min(failures, 10)))

    @staticmethod
    def _listen(channel: str) -> sql.Composed:
        return sql.SQL(queries.LISTEN_CHANNEL).format(sql.Identifier(channel))


class Subscription(_Base, Iterator[Event]):
    """A blocking iterator of events (see the module docstring). Close it when done."""

    _conn: psycopg.Connection[Any] | None = None

    def __iter__(self) -> Subscription:
        return self

    def __next__(self) -> Event:
        failures = 0
        while True:
            if self._buffer:
                return self._take()
            if self._closed:
                raise StopIteration
            try:
                conn = self._connection()
                fetched = self._fetch(conn)
                failures = 0
                if fetched:
                    continue
                if not self.follow:
                    raise StopIteration
                self._wait(conn)
            except RECONNECT_ERRORS:
                self._drop()
                failures += 1
                time.sleep(self._backoff(failures))

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            conn = psycopg.connect(self.dsn, autocommit=True, application_name="collab-subscribe")
            # LISTEN before reading: a commit between the read and the wait still wakes us.
            if self.follow:
                try:
                    if self._channel is None:
                        self._channel = str(self._whoami(conn)["events_channel"])
                    conn.execute(self._listen(self._channel))
                except BaseException:
                    conn.close()
                    raise
            if self._conn is not None:
                self.reconnects += 1
            self._conn = conn
        return self._conn

    def _whoami(self, conn: psycopg.Connection[Any]) -> dict[str, Any]:
        with conn.cursor(row_factory=dict_row) as cur:
            try:
                execute_as(cur, queries.WHOAMI, {}, self._claims)
            except RECONNECT_ERRORS:
                raise
            except psycopg.Error as exc:
                raise translate(exc) from exc
            row = cur.fetchone()
        assert row is not None
        return dict(row["whoami"])

    def _fetch(self, conn: psycopg.Connection[Any]) -> int:
        with conn.cursor(row_factory=dict_row) as cur:
            try:
                execute_as(cur, queries.EVENTS_SINCE, self._query_params(), self._claims)
            except RECONNECT_ERRORS:
                raise
            except psycopg.Error as exc:
                raise translate(exc) from exc
            rows = cur.fetchall()
        self._buffer.extend(_row(Event, r) for r in rows)
        if rows:
            self._activity()
        return len(rows)

    def _wait(self, conn: psycopg.Connection[Any]) -> None:
        woken = False
        for _ in conn.notifies(timeout=self._timeout(), stop_after=1):
            woken = True
        if woken:  # drain the wake-ups that piled up: one read serves them all
            self._activity()
            for _ in conn.notifies(timeout=0.001):
                pass

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()

    def close(self) -> None:
        self._closed = True
        self._drop()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSubscription(_Base, AsyncIterator[Event]):
    """The asyncio form of ``Subscription``: ``async for event in client.asubscribe(...)``."""

    _conn: psycopg.AsyncConnection[Any] | None = None

    def __aiter__(self) -> AsyncSubscription:
        return self

    async def __anext__(self) -> Event:
        failures = 0
        while True:
            if self._buffer:
                return self._take()
            if self._closed:
                raise StopAsyncIteration
            try:
                conn = await self._connection()
                fetched = await self._fetch(conn)
                failures = 0
                if fetched:
                    continue
                if not self.follow:
                    raise StopAsyncIteration
                await self._wait(conn)
            except RECONNECT_ERRORS:
                await self._drop()
                failures += 1
                await asyncio.sleep(self._backoff(failures))

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            conn = await psycopg.AsyncConnection.connect(
                self.dsn, autocommit=True, application_name="collab-subscribe"
            )
            if self.follow:
                try:
                    if self._channel is None:
                        self._channel = str((await self._whoami(conn))["events_channel"])
                    await conn.execute(self._listen(self._channel))
                except BaseException:
                    await conn.close()
                    raise
            if self._conn is not None:
                self.reconnects += 1
            self._conn = conn
        return self._conn

    async def _whoami(self, conn: psycopg.AsyncConnection[Any]) -> dict[str, Any]:
        async with conn.cursor(row_factory=dict_row) as cur:
            try:
                await aexecute_as(cur, queries.WHOAMI, {}, self._claims)
            except RECONNECT_ERRORS:
                raise
            except psycopg.Error as exc:
                raise translate(exc) from exc
            row = await cur.fetchone()
        assert row is not None
        return dict(row["whoami"])

    async def _fetch(self, conn: psycopg.AsyncConnection[Any]) -> int:
        async with conn.cursor(row_factory=dict_row) as cur:
            try:
                await aexecute_as(cur, queries.EVENTS_SINCE, self._query_params(), self._claims)
            except RECONNECT_ERRORS:
                raise
            except psycopg.Error as exc:
                raise translate(exc) from exc
            rows = await cur.fetchall()
        self._buffer.extend(_row(Event, r) for r in rows)
        if rows:
            self._activity()
        return len(rows)

    async def _wait(self, conn: psycopg.AsyncConnection[Any]) -> None:
        woken = False
        async for _ in conn.notifies(timeout=self._timeout(), stop_after=1):
            woken = True
        if woken:
            self._activity()
            async for _ in conn.notifies(timeout=0.001):
                pass

    async def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()

    async def aclose(self) -> None:
        self._closed = True
        await self._drop()

    async def __aenter__(self) -> AsyncSubscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
