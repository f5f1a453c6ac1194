"""The authorization matrix through Supabase's path: every ``api`` function by every kind of
caller, called with supabase-py over the gateway and the real PostgREST.

The expected outcomes are those of ``tests/sql/501_authorization_matrix.sql`` (read from that
file, so the SQL and REST suites cannot drift); the arguments of each call are here, in
``CALLS``. The set of functions comes from the catalog: a new ``api`` function without a row in
501 *and* a case in ``CALLS`` fails this suite. Through REST each outcome must also carry its
HTTP status (``PTxxx`` -> xxx, ``42501`` -> 401 for anon, 403 otherwise), the four error keys
and the stable reason in ``details``; a success must have the shape of the function's result
(an array for ``setof``/``table`` functions).

Unlike 501 (where every call is rolled back), each call here commits: the fixture is rebuilt
through REST after every successful call of a volatile function, so every caller sees the same
starting state. A member of another workspace (``other_workspace``) must never see a marker of
workspace A (its queue, job types, executor, users) in any answer, unless they sent it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import Client, ClientOptions, create_client

from collab import stack
from rest.conftest import RestStack

pytestmark = pytest.mark.filterwarnings(
    "ignore:The '(timeout|verify)' parameter is deprecated:DeprecationWarning"
)

MATRIX_FILE = Path(__file__).resolve().parents[2] / "sql" / "501_authorization_matrix.sql"
CALLERS = ("anon", "viewer", "member", "admin", "executor", "other_workspace", "service_role")
FOUR_KEYS = {"code", "message", "details", "hint"}
ELSEWHERE = "aaaaaaaa-0000-0000-0000-00000000000a"  # a workspace id nobody is invited to


def expectations_from_501() -> dict[str, dict[str, str]]:
    """{function: {caller: 'ok' | SQLSTATE | 'PTxxx reason'}} as written in 501."""
    text = MATRIX_FILE.read_text()
    rows = re.findall(
        r"\(\s*'(\w+)',\s*\$\$.*?\$\$,\s*((?:'[^']*'\s*,?\s*){7})\)", text, flags=re.DOTALL
    )
    out: dict[str, dict[str, str]] = {}
    for name, outcomes in rows:
        values = re.findall(r"'([^']*)'", outcomes)
        out[name] = dict(zip(CALLERS, values, strict=True))
    return out


@dataclass
class Fixture:
    """501's tenancy fixture, built through REST: workspace A (viewer, member, admin, owner,
    an executor user running exec-a; a dead, a running and a queued job on one queue) and
    workspace B (the outsider, an admin there)."""

    workspace_a: str
    workspace_b: str
    users: dict[str, str]
    queue: str
    executor_id: str
    jobs: dict[str, int]  # doomed (dead), running, queued
    lease_token: str  # of the running job
    markers: set[str] = field(default_factory=set)  # what only workspace A's callers may see


def api_catalog(db_url: str) -> dict[str, tuple[str, bool]]:
    """{name: (volatility, returns a set)} of every ``api`` function."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """
            select p.proname::text, p.provolatile::text, p.proretset
              from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'api' and p.prokind = 'f'
            """
        ).fetchall()
    return {str(name): (str(volatility), bool(retset)) for name, volatility, retset in rows}


# The arguments of each call (501's `call` column, with the fixture's ids).
CALLS: dict[str, Callable[[Fixture], dict[str, Any]]] = {
    "accept_invitation": lambda f: {"workspace_id": f.workspace_a},
    "add_member": lambda f: {"user_id": "77777777-7777-7777-7777-777777777777", "role": "viewer"},
    "cancel": lambda f: {"job_id": f.jobs["queued"]},
    "check_invariants": lambda f: {},
    "claim": lambda f: {
        "executor_id": f.executor_id,
        "queues": [f.queue],
        "max_jobs": 1,
        "lease_seconds": 30,
    },
    "complete": lambda f: {"job_id": f.jobs["running"], "lease_token": f.lease_token, "result": {}},
    "complete_batch": lambda f: {
        "items": [{"job_id": f.jobs["running"], "lease_token": f.lease_token}]
    },
    "configure_rate_limit": lambda f: {
        "action": "claim",
        "scope": "executor",
        "rate_per_second": 10,
    },
    # 501 sets the platform default; here the session's database is shared: A's override only
    "configure_limits": lambda f: {"workspace_id": f.workspace_a, "queues": 50},
    "configure_queue": lambda f: {"queue": f.queue, "lease_seconds": 60},
    "configure_workspace": lambda f: {"max_payload_bytes": 2048},
    "create_workspace": lambda f: {"name": f"brand-new-{uuid.uuid4().hex[:8]}"},
    "decline_invitation": lambda f: {"workspace_id": f.workspace_a},
    "enqueue": lambda f: {"queue": f.queue, "type": "t"},
    "enqueue_batch": lambda f: {"jobs": [{"queue": f.queue, "type": "t"}]},
    "events_head": lambda f: {},
    "events_since": lambda f: {},
    "fail": lambda f: {"job_id": f.jobs["running"], "lease_token": f.lease_token, "error": {}},
    "get_job": lambda f: {"job_id": f.jobs["queued"]},
    "get_limits": lambda f: {},
    "heartbeat": lambda f: {"executor_id": f.executor_id},
    "leave_workspace": lambda f: {},
    "list_executors": lambda f: {},
    "list_invitations": lambda f: {},
    "list_jobs": lambda f: {},
    "list_queues": lambda f: {},
    "may_receive": lambda f: {"topic": f"workspace:{f.workspace_a}:events"},
    "metrics_prometheus": lambda f: {},
    "metrics_summary": lambda f: {},
    "pause_queue": lambda f: {"queue": f.queue},
    "progress": lambda f: {
        "job_id": f.jobs["running"],
        "lease_token": f.lease_token,
        "progress": 50,
    },
    "purge_dead": lambda f: {},
    "purge_events": lambda f: {},
    "reap": lambda f: {},
    "register_executor": lambda f: {"name": "new-exec", "queues": [f.queue]},
    "remove_member": lambda f: {"user_id": f.users["viewer"]},
    "requeue": lambda f: {"job_ids": [f.jobs["doomed"]]},
    "resume_queue": lambda f: {"queue": f.queue},
    "whoami": lambda f: {},
    # a worker's turn (revision 0027): refused through REST once the caller's checks pass
    "wait_turn": lambda f: {"executor_id": f.executor_id, "queues": [f.queue], "wait_ms": 0},
    "end_turn": lambda f: {},
    # artifacts and the Edge Functions' quota and overview (issue 14): 501's rows
    "put_artifact": lambda f: {
        "name": "m.txt",
        "data": "eA==",
        "media_type": "text/plain",
        "job_id": f.jobs["queued"],
    },
    "get_artifact": lambda f: {"id": -1},
    "list_artifacts": lambda f: {},
    "delete_artifact": lambda f: {"id": -1},
    "sign_artifact": lambda f: {"id": -1},
    "download_artifact": lambda f: {"path": "artifacts/x", "token": "not-a-token"},
    "function_quota": lambda f: {"name": "jobs-recent"},
    "metrics_overview": lambda f: {},
    # LLM routing and the key vault (issue 15): the same calls as 501's rows
    "put_route": lambda f: {"service": "chat", "name": "r1", "provider": "p", "model": "m"},
    "list_routes": lambda f: {},
    "configure_routing": lambda f: {"service": "chat", "strategy": "cost"},
    "rank_routes": lambda f: {"service": "chat"},
    "record_route_outcome": lambda f: {"snapshot_id": 0, "route": "r1", "status": 200},
    "routing_snapshot": lambda f: {"service": "chat"},
    "put_secret": lambda f: {"name": "k", "value": ""},
    "read_secret": lambda f: {"name": "nope", "label": "bogus"},
    "delete_secret": lambda f: {"name": "nope"},
    "restore_secret": lambda f: {"name": "nope"},
    "list_secrets": lambda f: {},
    "secret_audit": lambda f: {},
    "configure_vault": lambda f: {"mode": "production"},
    "rewrap_secrets": lambda f: {"limit": 0},
    "index_documents": lambda f: {
        "collection": "notes",
        "documents": [{"key": "a", "body": "a note"}],
    },
    "search": lambda f: {"collection": "notes", "query": "note"},
    "drop_collection": lambda f: {"collection": "notes"},
}


class Caller:
    """supabase-py clients of one stack sharing one httpx client that records each status."""

    def __init__(self, rest: RestStack) -> None:
        self.rest = rest
        self.statuses: list[int] = []
        self.http = httpx.Client(
            timeout=30, event_hooks={"response": [lambda r: self.statuses.append(r.status_code)]}
        )

    def client(self, role: str, sub: str | None = None, workspace: str | None = None) -> Client:
        if role == "anon":
            key, token = self.rest.anon_key, None
        elif role == "service_role":
            key = self.rest.service_role_key
            token = self.rest_token("service_role", None, workspace)
        else:
            key, token = self.rest.anon_key, self.rest_token("authenticated", sub, workspace)
        options = ClientOptions(
            schema="api",
            headers={"Authorization": f"Bearer {token}"} if token else {},
            auto_refresh_token=False,
            persist_session=False,
            postgrest_client_retry=False,
            httpx_client=self.http,
        )
        return create_client(self.rest.url, key, options=options)

    def rest_token(self, role: str, sub: str | None, workspace: str | None) -> str:
        return stack.mint_token(self.rest.jwt_secret, role, sub=sub, workspace=workspace, ttl=600)


def call(client: Client, fn: str, params: dict[str, Any]) -> Any:
    return client.rpc(fn, params).execute().data


def build_fixture(caller: Caller) -> tuple[Fixture, dict[str, Client]]:
    tag = uuid.uuid4().hex[:8]
    users = {name: str(uuid.uuid4()) for name in ("owner", "owner_b", *CALLERS[1:6])}
    made = call(caller.client("authenticated", users["owner"]), "create_workspace", {"name": tag})
    workspace_a = str(made["workspace_id"])
    made = call(
        caller.client("authenticated", users["owner_b"]),
        "create_workspace",
        {"name": uuid.uuid4().hex[:8]},
    )
    workspace_b = str(made["workspace_id"])
    # the outsider is an admin of B (not its owner, who could not leave it), as in 501
    call(
        caller.client("service_role", workspace=workspace_b),
        "add_member",
        {"user_id": users["other_workspace"], "role": "admin"},
    )
    service_a = caller.client("service_role", workspace=workspace_a)
    for name, role in (
        ("viewer", "viewer"),
        ("member", "member"),
        ("admin", "admin"),
        ("executor", "member"),
    ):
        call(service_a, "add_member", {"user_id": users[name], "role": role})
    clients = {"anon": caller.client("anon"), "service_role": service_a}
    for name in CALLERS[1:5]:
        clients[name] = caller.client("authenticated", users[name], workspace_a)
    clients["other_workspace"] = caller.client(
        "authenticated", users["other_workspace"], workspace_b
    )
    worker = clients["executor"]
    queue = f"q-{tag}"
    executor_id = str(call(worker, "register_executor", {"name": f"exec-{tag}", "queues": [queue]}))
    jobs: dict[str, int] = {}

    def enqueue_and_claim(job_type: str, **extra: Any) -> dict[str, Any]:
        job = call(worker, "enqueue", {"queue": queue, "type": job_type, **extra})
        jobs[job_type.partition("-")[0]] = int(job["id"])
        claimed = call(worker, "claim", {"executor_id": executor_id, "queues": [queue]})
        assert len(claimed) == 1 and claimed[0]["id"] == job["id"], claimed
        return dict(claimed[0])

    doomed = enqueue_and_claim(f"doomed-{tag}", max_attempts=1)
    call(
        worker,
        "fail",
        {
            "job_id": doomed["id"],
            "lease_token": doomed["lease_token"],
            "error": {"boom": True},
            "retryable": False,
        },
    )
    running = enqueue_and_claim(f"running-{tag}")
    job = call(worker, "enqueue", {"queue": queue, "type": f"queued-{tag}"})
    jobs["queued"] = int(job["id"])
    markers = {workspace_a, queue, executor_id, f"exec-{tag}", f"doomed-{tag}", tag}
    markers |= {users[n] for n in ("owner", "viewer", "member", "admin", "executor")}
    fixture = Fixture(
        workspace_a=workspace_a,
        workspace_b=workspace_b,
        users=users,
        queue=queue,
        executor_id=executor_id,
        jobs=jobs,
        lease_token=str(running["lease_token"]),
        markers=markers,
    )
    return fixture, clients


@dataclass
class Outcome:
    got: str
    status: int
    body: str
    problems: list[str]


def run_one(
    caller: Caller, client: Client, fn: str, params: dict[str, Any], returns_set: bool
) -> Outcome:
    caller.statuses.clear()
    problems: list[str] = []
    try:
        data = client.rpc(fn, params).execute().data
    except APIError as err:
        status = caller.statuses[-1] if caller.statuses else 0
        body = json.dumps(err.json())
        if set(err.json()) != FOUR_KEYS:
            problems.append(f"error body without the four keys: {body}")
        code = str(err.code)
        got = code
        if code.startswith("PT"):
            try:
                reason = json.loads(str(err.details))["reason"]
            except (TypeError, ValueError, KeyError):
                reason = "?"
            got = f"{code} {reason}"
            if status != int(code[2:]):
                problems.append(f"{code} answered HTTP {status}")
        return Outcome(got, status, body, problems)
    status = caller.statuses[-1] if caller.statuses else 0
    if not 200 <= status < 300:
        problems.append(f"success with HTTP {status}")
    if returns_set and not isinstance(data, list):
        problems.append(f"a set-returning function answered {type(data).__name__}")
    if not returns_set and isinstance(data, list):
        problems.append("a function returning one value answered an array")
    return Outcome("ok", status, json.dumps(data), problems)


@pytest.fixture(scope="module")
def caller(rest_stack: RestStack) -> Iterator[Caller]:
    the_caller = Caller(rest_stack)
    yield the_caller
    the_caller.http.close()


def test_every_api_function_has_a_rest_case_and_a_row_in_501(rest_stack: RestStack) -> None:
    catalog = set(api_catalog(rest_stack.db_url))
    assert catalog - set(CALLS) == set(), "api functions without a REST case in CALLS"
    assert set(CALLS) - catalog == set(), "CALLS names functions that are not in api"
    assert catalog == set(expectations_from_501()), "501's matrix and the catalog differ"


def test_the_matrix_through_supabase_py(rest_stack: RestStack, caller: Caller) -> None:
    """Every function as every caller: 501's outcome, the right status, the four keys; and
    no answer to the outsider mentions workspace A (unless the outsider sent it)."""
    catalog = api_catalog(rest_stack.db_url)
    expected = expectations_from_501()
    failures: list[str] = []
    fixture, clients = build_fixture(caller)
    for fn in sorted(catalog):
        volatility, returns_set = catalog[fn]
        for who in CALLERS:
            if fn not in CALLS or fn not in expected:
                continue  # reported by the test above
            params = CALLS[fn](fixture)
            outcome = run_one(caller, clients[who], fn, params, returns_set)
            want = expected[fn][who]
            if outcome.got != want:
                failures.append(f"{fn} as {who}: expected {want}, got {outcome.got}")
            if want == "42501" and outcome.got == "42501":
                status = 401 if who == "anon" else 403
                if outcome.status != status:
                    failures.append(f"{fn} as {who}: 42501 answered {outcome.status}")
            failures += [f"{fn} as {who}: {p}" for p in outcome.problems]
            if who == "other_workspace":
                sent = json.dumps(params)
                leaked = {m for m in fixture.markers if m in outcome.body and m not in sent}
                if leaked:
                    failures.append(f"{fn} as other_workspace saw A's {sorted(leaked)}")
            if outcome.got == "ok" and volatility == "v":
                fixture, clients = build_fixture(caller)  # the call committed: start afresh
    assert failures == [], "\n".join(failures)


def test_an_outsider_reads_nothing_of_another_workspace_through_get(
    rest_stack: RestStack, caller: Caller
) -> None:
    """Every stable function, called by GET (as clients read), by an admin of workspace B,
    with A's own ids where the function takes one: no answer mentions workspace A."""
    catalog = api_catalog(rest_stack.db_url)
    fixture, clients = build_fixture(caller)
    outsider = clients["other_workspace"]
    by_name = {
        "job_id": fixture.jobs["queued"],
        "queue": fixture.queue,
        "executor_id": fixture.executor_id,
        "topic": f"workspace:{fixture.workspace_a}:events",
    }
    assert (
        call(clients["member"], "get_job", {"job_id": fixture.jobs["queued"]})["id"]
        == (fixture.jobs["queued"])
    )
    for fn, (volatility, _) in sorted(catalog.items()):
        if volatility == "v" or fn == "check_invariants":  # service role only: in the matrix
            continue
        # with no argument (the outsider's whole view), then with A's ids where it takes them
        for params in ({}, {k: by_name[k] for k in CALLS[fn](fixture) if k in by_name}):
            try:
                body = json.dumps(outsider.rpc(fn, params, get=True).execute().data)
            except APIError as err:
                body = json.dumps(err.json())
            sent = json.dumps(params)
            leaked = {m for m in fixture.markers if m in body and m not in sent}
            assert not leaked, (fn, params, body)
    assert call(outsider, "may_receive", {"topic": f"workspace:{fixture.workspace_a}:events"}) is (
        False
    )
