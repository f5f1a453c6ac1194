"""A client's claims are transaction-local (security review, section 12): every call sets
``request.jwt.claims`` with ``is_local = true`` in the call's own transaction, the way PostgREST
does, so a server connection keeps no claims between calls. Behind a transaction-mode pooler
(Supavisor, PgBouncer) clients share server connections: with session-level claims, one
client's claims stayed on the connection and the next client acted as that caller."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from collab import Client
from collab.client import Forbidden


def user_claims(user: uuid.UUID) -> dict[str, str]:
    return {"role": "authenticated", "sub": str(user)}


def session_claims(conn: psycopg.Connection[Any]) -> Any:
    """What the session holds outside any call ('' or None: nothing)."""
    row = conn.execute("select current_setting('request.jwt.claims', true)").fetchone()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def users(db_url: str) -> dict[str, tuple[uuid.UUID, str]]:
    """Two users, each the owner of their own workspace: name -> (user id, workspace id)."""
    out: dict[str, tuple[uuid.UUID, str]] = {}
    for name in ("alice", "bob"):
        user = uuid.uuid4()
        with Client(db_url, max_size=1, claims=user_claims(user)) as c:
            ws = c.create_workspace(f"claims-local-{name}")["workspace_id"]
        out[name] = (user, str(ws))
    return out


class SharedServerConnection:
    """Stands in for a transaction-mode pooler: every call of every client that uses it runs
    on the same server connection, one after the other."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        yield self.conn

    def close(self) -> None:
        pass


def test_a_call_leaves_no_claims_on_its_pooled_connection(
    db_url: str, users: dict[str, tuple[uuid.UUID, str]]
) -> None:
    alice, alice_ws = users["alice"]
    with Client(db_url, min_size=1, max_size=1, claims=user_claims(alice)) as c:
        me = c.whoami()
        assert (me["user_id"], me["workspace_id"], me["role"]) == (str(alice), alice_ws, "owner")
        job = c.enqueue("claims-local-q", "t")
        assert [j.id for j in c.list_jobs(queue="claims-local-q")[0]] == [job.id]
        with c.pool.connection() as conn:  # the one server connection of the pool
            assert session_claims(conn) in (None, ""), "claims outlived the call"
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def traced(client: Client, call: Callable[[], object], trace: Path) -> list[str]:
    """The protocol messages (libpq trace) of one call of ``client`` (its pool has one
    connection): ``F <message> <contents>`` sent by the client, ``B ...`` by the server."""
    with trace.open("wb") as out:
        with client.pool.connection() as conn:
            conn.pgconn.trace(out.fileno())
            conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            call()  # on that same connection, given back to the pool
        finally:
            with client.pool.connection() as conn:
                conn.pgconn.untrace()
    lines = [line.split("\t") for line in trace.read_text().splitlines()]
    return [" ".join([parts[0], *parts[2:]]) for parts in lines]


def names(messages: list[str]) -> list[str]:
    return [" ".join(m.split(" ")[:2]) for m in messages]


def test_claims_and_call_are_one_transaction_in_one_round_trip(
    db_url: str, users: dict[str, tuple[uuid.UUID, str]], tmp_path: Path
) -> None:
    alice, _ = users["alice"]
    with Client(db_url, min_size=1, max_size=1, claims=user_claims(alice)) as c:
        raw = traced(c, c.whoami, tmp_path / "with-claims.trace")
    assert any("set_config('request.jwt.claims', $1, true)" in m for m in raw), raw
    messages = names(raw)
    sent = [m for m in messages if m.startswith("F ")]
    assert sent.count("F Execute") == 2, "set_config(..., true), then the call"
    assert sent.count("F Sync") == 1, "one Sync: one round trip, one implicit transaction"
    assert "F Query" not in sent, "no separate BEGIN/COMMIT"
    assert [m for m in messages if m == "B ReadyForQuery"] == ["B ReadyForQuery"]
    with Client(db_url, min_size=1, max_size=1) as plain:  # no claims: the call alone
        messages = traced(plain, plain.whoami, tmp_path / "without-claims.trace")
    assert not any("set_config" in m for m in messages)
    assert names(messages).count("B ReadyForQuery") == 1


def test_a_failed_call_leaves_no_claims_and_no_open_transaction(db_url: str) -> None:
    stranger = uuid.uuid4()  # a member of no workspace
    with Client(db_url, min_size=1, max_size=1, claims=user_claims(stranger)) as c:
        with pytest.raises(Forbidden):
            c.enqueue("claims-local-q", "t")
        with c.pool.connection() as conn:
            assert session_claims(conn) in (None, "")
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_clients_sharing_one_server_connection_never_see_each_others_claims(
    db_url: str, users: dict[str, tuple[uuid.UUID, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, alice_ws = users["alice"]
    bob, bob_ws = users["bob"]
    with psycopg.connect(db_url, autocommit=True) as server:
        shared = SharedServerConnection(server)
        with (
            Client(db_url, max_size=1, claims=user_claims(alice)) as as_alice,
            Client(db_url, max_size=1, claims=user_claims(bob)) as as_bob,
            Client(db_url, max_size=1) as service,
            monkeypatch.context() as patch,  # undone before the clients close their pools
        ):
            for c in (as_alice, as_bob, service):
                patch.setattr(c, "pool", shared)
            alice_job = as_alice.enqueue("shared-conn-q", "t")
            bob_job = as_bob.enqueue("shared-conn-q", "t")
            for _ in range(3):  # interleaved on the one connection
                assert as_alice.whoami()["workspace_id"] == alice_ws
                assert [j.id for j in as_alice.list_jobs(queue="shared-conn-q")[0]] == [
                    alice_job.id
                ]
                assert as_bob.whoami()["workspace_id"] == bob_ws
                assert [j.id for j in as_bob.list_jobs(queue="shared-conn-q")[0]] == [bob_job.id]
                # A client without claims acts as the connection's own login, not as the last
                # caller: the service role in the default workspace.
                me = service.whoami()
                assert (me["user_id"], me["role"]) == (None, "service")
                assert me["workspace_id"] not in (alice_ws, bob_ws)
            assert session_claims(server) in (None, "")


def test_subscriptions_set_claims_per_call_only(
    db_url: str, users: dict[str, tuple[uuid.UUID, str]]
) -> None:
    alice, alice_ws = users["alice"]
    with Client(db_url, max_size=1, claims=user_claims(alice)) as c:
        job = c.enqueue("claims-sub-q", "t")
        with c.subscribe(queue="claims-sub-q", poll_seconds=0.2) as sub:
            assert next(sub).job_id == job.id
            conn = sub._conn
            assert conn is not None
            assert session_claims(conn) in (None, "")
            channels = [
                r[0] for r in conn.execute("select pg_listening_channels()::text").fetchall()
            ]
            assert channels == [f"collab_events:{alice_ws}"]

        async def run() -> tuple[int | None, Any, list[str]]:
            async with c.asubscribe(queue="claims-sub-q", poll_seconds=0.2) as asub:
                event = await asub.__anext__()
                aconn = asub._conn
                assert aconn is not None
                cur = await aconn.execute("select current_setting('request.jwt.claims', true)")
                row = await cur.fetchone()
                cur = await aconn.execute("select pg_listening_channels()::text")
                listening = [r[0] for r in await cur.fetchall()]
                return event.job_id, None if row is None else row[0], listening

        job_id, left, listening = asyncio.run(run())
        assert job_id == job.id
        assert left in (None, "")
        assert listening == [f"collab_events:{alice_ws}"]
