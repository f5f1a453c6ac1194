"""Finding 3 of the security review, through the Python client and with real connections:
an admin's add_member of a stranger is only an invitation the stranger accepts or declines,
and the last owner of a workspace stays, even when two owners leave or step down at the same
time (each in its own transaction on its own connection, as two PostgREST requests)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from helpers import wait_for

from collab import Client
from collab.client import Conflict, Gone, NotFound


def user(db_url: str, sub: uuid.UUID, workspace_id: str | None = None) -> Client:
    claims: dict[str, Any] = {"role": "authenticated", "sub": str(sub)}
    if workspace_id is not None:
        claims["workspace_id"] = workspace_id
    return Client(db_url, max_size=1, claims=claims)


def test_an_admin_only_invites_and_the_invitee_decides(db_url: str) -> None:
    attacker, victim, newcomer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with user(db_url, victim) as c:
        home = c.create_workspace("inv-victim-home")["workspace_id"]
        c.enqueue("q", "mine")
    with user(db_url, attacker) as c:
        other = c.create_workspace("inv-attacker")["workspace_id"]
        assert c.add_member(victim, "viewer")["status"] == "invited"
        assert c.add_member(newcomer, "member")["status"] == "invited"
    with user(db_url, victim) as c:
        # The review's reproduction: the victim's claim-less calls keep working.
        assert [j.type for j in c.list_jobs()[0]] == ["mine"]
        assert [(i.workspace_id, i.name) for i in c.list_invitations()] == [
            (uuid.UUID(other), "inv-attacker")
        ]
        assert c.decline_invitation(other)["status"] == "declined"
        with pytest.raises(NotFound) as refused:
            c.accept_invitation(other)
        assert refused.value.reason == "invitation_not_found"
        assert c.whoami()["workspace_id"] == home
    with user(db_url, newcomer) as c:
        joined = c.accept_invitation(other)
        assert (joined["role"], joined["status"]) == ("member", "member")
        assert c.whoami()["workspace_id"] == other
        assert c.leave_workspace()["status"] == "left"
        assert c.list_invitations() == []


def test_an_expired_invitation_is_gone(db_url: str) -> None:
    owner, invitee = uuid.uuid4(), uuid.uuid4()
    with user(db_url, owner) as c:
        ws = c.create_workspace("inv-expiry")["workspace_id"]
        c.add_member(invitee, "viewer")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "update collab.invitations set created_at = created_at - interval '8 days',"
            " expires_at = expires_at - interval '8 days' where user_id = %s",
            [invitee],
        )
    with user(db_url, invitee) as c:
        with pytest.raises(Gone) as refused:
            c.accept_invitation(ws)
        assert refused.value.reason == "invitation_expired"
    with user(db_url, owner) as c:
        assert c.remove_member(invitee)["status"] == "invitation_cancelled"


@contextmanager
def request_as(db_url: str, sub: uuid.UUID, ws: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection in an open transaction set up as PostgREST sets up a request of ``sub``."""
    with psycopg.connect(db_url) as conn:
        claims = {"role": "authenticated", "sub": str(sub), "workspace_id": ws}
        conn.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])
        conn.execute("set local role authenticated")
        yield conn


def step_down(conn: psycopg.Connection[Any], how: str, sub: uuid.UUID) -> None:
    if how == "leave":
        conn.execute("select api.leave_workspace()")
    else:
        conn.execute("select api.add_member(%s, 'admin')", [sub])


@pytest.mark.parametrize(
    ("first", "second"), [("leave", "leave"), ("demote", "demote"), ("leave", "demote")]
)
def test_the_last_two_owners_stepping_down_at_once_leave_one(
    db_url: str, first: str, second: str
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    with user(db_url, a) as c:
        ws = c.create_workspace(f"inv-owners-{first}-{second}")["workspace_id"]
    with Client(db_url, max_size=1, claims={"role": "service_role", "workspace_id": ws}) as s:
        assert s.add_member(b, "owner")["status"] == "member"
    outcome: dict[str, Any] = {}
    with request_as(db_url, a, ws) as conn_a, psycopg.connect(db_url, autocommit=True) as watch:
        step_down(conn_a, first, a)  # done, not committed: the owner rows stay locked

        def other_owner() -> None:
            try:
                with request_as(db_url, b, ws) as conn_b:
                    outcome["pid"] = conn_b.info.backend_pid
                    step_down(conn_b, second, b)
                    conn_b.commit()
                    outcome["result"] = "committed"
            except psycopg.Error as exc:
                outcome["result"] = exc

        thread = threading.Thread(target=other_owner)
        thread.start()
        wait_for(
            lambda: (
                "pid" in outcome
                and watch.execute(
                    "select wait_event_type = 'Lock' from pg_stat_activity where pid = %s",
                    [outcome["pid"]],
                ).fetchone()
                == (True,)
            ),
            what="the second owner waits for the first one's lock",
        )
        conn_a.commit()
        thread.join(30)
    refused = outcome["result"]
    assert isinstance(refused, psycopg.Error), f"both owners stepped down: {refused}"
    assert refused.sqlstate == "PT409"
    assert json.loads(refused.diag.message_detail or "{}")["reason"] == "last_owner"
    with psycopg.connect(db_url) as conn:
        owners = conn.execute(
            "select user_id from collab.members where workspace_id = %s and role = 'owner'", [ws]
        ).fetchall()
    assert owners == [(b,)]


def test_the_last_owner_cannot_leave_through_the_client(db_url: str) -> None:
    owner = uuid.uuid4()
    with user(db_url, owner) as c:
        c.create_workspace("inv-last-owner")
        with pytest.raises(Conflict) as refused:
            c.leave_workspace()
        assert refused.value.reason == "last_owner"
        with pytest.raises(Conflict):
            c.add_member(owner, "viewer")
