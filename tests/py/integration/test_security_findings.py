"""Findings of the security review (2026-11-30) that need real sessions: concurrent
transactions, other login roles, a database as the migrations leave it. Each test is named
after its finding and fails on the code the review attacked.

The single-session parts are pgTAP: tests/sql/540 (finding 1), 541 (2), 547 (7), 549 (9), 552.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from conftest import new_database
from helpers import drop_database, wait_for
from psycopg import sql

from collab import migrate

WS_A = uuid.UUID("aaaaaaaa-0000-0000-0000-00000000000a")
WS_B = uuid.UUID("bbbbbbbb-0000-0000-0000-00000000000b")
ATTACKER = uuid.UUID("a77ac4e2-0000-0000-0000-000000000001")
VICTIM = uuid.UUID("71c71300-0000-0000-0000-000000000002")
EX_A = uuid.UUID("eeeeeeee-0000-0000-0000-00000000000a")
EX_B = uuid.UUID("eeeeeeee-0000-0000-0000-00000000000b")


def login_url(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def login_role(admin_url: str, *grants: str) -> Iterator[tuple[str, str]]:
    """A login role (cluster-wide, dropped afterwards) granted the given roles."""
    name = f"collab_t_login_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create role {} login inherit password {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
        for role in grants:
            conn.execute(
                sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(name))
            )
    try:
        yield name, password
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


def act_as(conn: psycopg.Connection[Any], user: uuid.UUID, workspace: uuid.UUID = WS_A) -> None:
    """Inside the open transaction: the settings PostgREST sets for a signed-in user."""
    claims = {"role": "authenticated", "sub": str(user), "workspace_id": str(workspace)}
    conn.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])
    conn.execute("set local role authenticated")


@pytest.fixture(scope="module")
def tenants(db_url: str) -> str:
    """Workspace A (the attacker owns it, the victim is a member) and B (the victim's)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "insert into collab.workspaces (id, name) values (%s, 'tenant-a'), (%s, 'tenant-b')",
            [WS_A, WS_B],
        )
        conn.execute(
            "insert into collab.members (workspace_id, user_id, role) values"
            " (%s, %s, 'owner'), (%s, %s, 'member'), (%s, %s, 'owner')",
            [WS_A, ATTACKER, WS_A, VICTIM, WS_B, VICTIM],
        )
    return db_url


def test_finding1_claims_cannot_fill_the_lock_table(tenants: str) -> None:
    """The report's flood, scaled: the attacker's claims naming thousands of limited queues
    are refused, four sessions each holding a claim over 100 limited queues hold no lock-table
    entry per queue, and tenant B's enqueue and claim go on meanwhile."""
    with psycopg.connect(tenants, autocommit=True) as conn:
        conn.execute(
            "insert into collab.queues (workspace_id, name, concurrency_limit)"
            " select %s, 'lq' || g, 1 from generate_series(1, 400) g",
            [WS_A],
        )
        conn.execute(
            "insert into collab.executors (id, workspace_id, name, user_id) values"
            " (%s, %s, 'attacker-ex', %s), (%s, %s, 'victim-ex', %s)",
            [EX_A, WS_A, ATTACKER, EX_B, WS_B, VICTIM],
        )
    every_queue = [f"lq{g}" for g in range(1, 20001)]

    with psycopg.connect(tenants) as conn:
        act_as(conn, ATTACKER)
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("select * from api.claim(%s, %s, 1000)", [EX_A, every_queue]).fetchall()
        assert refused.value.sqlstate == "PT400", "a claim naming 20,000 queues is refused"

    holders: list[psycopg.Connection[Any]] = []
    try:
        for i in range(4):
            holder = psycopg.connect(tenants)
            holders.append(holder)
            act_as(holder, ATTACKER)
            names = [f"lq{g}" for g in range(i * 100 + 1, i * 100 + 101)]
            holder.execute("select * from api.claim(%s, %s, 1000)", [EX_A, names]).fetchall()
        pids = [h.info.backend_pid for h in holders]
        with psycopg.connect(tenants, autocommit=True) as observer:
            held = observer.execute(
                "select count(*) from pg_locks where pid = any(%s)", [pids]
            ).fetchone()
            advisory = observer.execute(
                "select count(*) from pg_locks where pid = any(%s) and locktype = 'advisory'",
                [pids],
            ).fetchone()
        assert advisory == (0,)
        assert held is not None
        assert held[0] < 4 * 40, f"{held[0]} lock entries for 400 queues"

        with psycopg.connect(tenants) as victim:
            act_as(victim, VICTIM, WS_B)
            victim.execute("select api.enqueue('work', 'still-fine')")
            claimed = victim.execute(
                "select count(*) from api.claim(%s, array['work'], 1)", [EX_B]
            ).fetchone()
            assert claimed == (1,), "tenant B enqueues and claims while A's claims are held"
    finally:
        for holder in holders:
            holder.close()


def test_finding2_a_login_without_temp_cannot_shadow_types(server_url: str) -> None:
    """Where the migrations own the database, PUBLIC may not create temporary objects, so a
    worker login granted `authenticated` cannot even create the shadowing domain."""
    name, url = new_database(server_url)
    try:
        migrate.up(url)
        with (
            login_role(url, "authenticated") as (user, password),
            psycopg.connect(login_url(url, user, password)) as conn,
        ):
            conn.execute("set role authenticated")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("create domain pg_temp.jsonb as pg_catalog.jsonb")
    finally:
        drop_database(server_url, name)


def test_finding6_register_executor_race_cannot_take_a_victims_executor(tenants: str) -> None:
    """The victim's first registration is still uncommitted when the attacker registers the
    same name: the attacker waits, then is refused; the victim's row is untouched."""
    outcome: dict[str, Any] = {}
    with psycopg.connect(tenants) as victim:
        act_as(victim, VICTIM)
        row = victim.execute("select api.register_executor('race1', array['q-victim'])").fetchone()
        assert row is not None
        victim_id = row[0]

        def attack() -> None:
            with psycopg.connect(tenants) as attacker:
                outcome["pid"] = attacker.info.backend_pid
                act_as(attacker, ATTACKER)
                try:
                    got = attacker.execute(
                        "select api.register_executor('race1', array['evil-queue'], 10)"
                    ).fetchone()
                    outcome["returned"] = got
                    attacker.commit()
                except psycopg.Error as exc:
                    outcome["sqlstate"] = exc.sqlstate
                    outcome["detail"] = exc.diag.message_detail

        thread = threading.Thread(target=attack)
        thread.start()
        with psycopg.connect(tenants, autocommit=True) as observer:
            wait_for(
                lambda: (
                    "pid" in outcome
                    and observer.execute(
                        "select wait_event_type = 'Lock' from pg_stat_activity where pid = %s",
                        [outcome["pid"]],
                    ).fetchone()
                    == (True,)
                ),
                what="the attacker's registration waiting on the victim's",
            )
        victim.commit()
    thread.join(30)
    assert "returned" not in outcome, f"the attacker got the victim's executor: {outcome}"
    assert outcome.get("sqlstate") == "PT403"
    assert json.loads(outcome["detail"])["reason"] == "forbidden"
    with psycopg.connect(tenants) as conn:
        row = conn.execute(
            "select user_id, queues, heartbeat_seconds from collab.executors where id = %s",
            [victim_id],
        ).fetchone()
    assert row == (VICTIM, ["q-victim"], 5)


def test_finding10_a_service_role_claim_alone_makes_no_service_caller(tenants: str) -> None:
    """A login granted only `authenticated`, with {"role": "service_role"} in its claims and no
    SET ROLE, acts for nobody; a login that is a member of service_role still may."""
    with psycopg.connect(tenants, autocommit=True) as conn:
        conn.execute(
            "select set_config('request.jwt.claims', %s, false)",
            [json.dumps({"workspace_id": str(WS_B)})],
        )
        conn.execute("select api.enqueue('secret', 'b-only')")
    claims = json.dumps({"role": "service_role", "workspace_id": str(WS_B)})
    for grant, may in (("authenticated", False), ("service_role", True)):
        with (
            login_role(tenants, grant) as (user, password),
            psycopg.connect(login_url(tenants, user, password), autocommit=True) as conn,
        ):
            conn.execute("select set_config('request.jwt.claims', %s, false)", [claims])
            if may:
                rows = conn.execute("select (job).type from api.list_jobs(queue => 'secret')")
                assert rows.fetchall() == [("b-only",)], "a member of service_role may"
                continue
            with pytest.raises(psycopg.Error) as refused:
                conn.execute("select * from api.list_jobs(queue => 'secret')").fetchall()
            assert refused.value.sqlstate == "PT403"
            with pytest.raises(psycopg.Error):
                conn.execute("select api.add_member(%s, 'owner')", [ATTACKER])
