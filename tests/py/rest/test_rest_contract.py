"""The RPC contract through Supabase's path: supabase-py -> the gateway -> the real PostgREST.

What Supabase clients rely on (issue 13; research/supabase-surface.md §3, §7): errors with the
four keys and the PTxxx status, the reason in ``details``; 401 for anon on every function;
PostgREST's own PGRST202 for an unknown argument; a 429 with ``Retry-After`` (set by the
database itself, so also without our gateway); tenancy; GET for the ``stable`` functions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import Client

from rest.conftest import Member, RestStack

# supabase-py 2.34 passes its own deprecated timeout/verify to postgrest-py: not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The '(timeout|verify)' parameter is deprecated:DeprecationWarning"
)

FOUR_KEYS = {"code", "message", "details", "hint"}

# A well-typed value per argument type, so that a call fails on privileges, not on parsing.
SAMPLE_VALUES: dict[str, Any] = {
    "bigint": 1,
    "integer": 1,
    "numeric": 1,
    "double precision": 1,
    "boolean": True,
    "text": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "jsonb": {},
    "json": {},
    "interval": "1 second",
    "timestamp with time zone": "2026-01-01T00:00:00Z",
    "text[]": [],
    "bigint[]": [],
    "uuid[]": [],
}


def api_functions(db_url: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(name, volatility, required arguments as (name, type)) of every ``api`` function."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """
            select p.proname::text, p.provolatile::text,
                   coalesce(array(select a.name || ':' || pg_catalog.format_type(a.type, null)
                                    from unnest(p.proargnames[1:p.pronargs - p.pronargdefaults],
                                                p.proargtypes::oid[]) with ordinality a(name, type, i)
                                   where a.name is not null order by a.i), '{}')
              from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'api' and p.prokind = 'f'
             order by 1
            """
        ).fetchall()
    out: list[tuple[str, str, list[tuple[str, str]]]] = []
    for name, volatility, args in rows:
        required = [(a.partition(":")[0], a.partition(":")[2]) for a in args]
        out.append((str(name), str(volatility), required))
    return out


def for_users(db_url: str) -> set[str]:
    """The api functions signed-in users may call (the rest are granted to service_role only)."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """
            select p.proname::text
              from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'api'
               and pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
            """
        ).fetchall()
    return {str(r[0]) for r in rows}


def sample_args(required: list[tuple[str, str]]) -> dict[str, Any]:
    return {name: SAMPLE_VALUES[type_] for name, type_ in required}


def post(
    rest: RestStack, fn: str, body: dict[str, Any], key: str, token: str | None = None
) -> httpx.Response:
    headers = {"apikey": key, "content-profile": "api"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return httpx.post(f"{rest.url}/rest/v1/rpc/{fn}", json=body, headers=headers, timeout=30)


def assert_error(
    answer: httpx.Response, status: int, code: str, reason: str | None
) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == FOUR_KEYS, body
    assert body["code"] == code
    if reason is not None:
        assert json.loads(body["details"])["reason"] == reason
    return dict(body)


def call(client: Client, fn: str, params: dict[str, Any], get: bool = False) -> Any:
    """The decoded result of one RPC through supabase-py."""
    return client.rpc(fn, params, get=get).execute().data


def rpc_error(client: Client, fn: str, params: dict[str, Any]) -> APIError:
    with pytest.raises(APIError) as raised:
        client.rpc(fn, params).execute()
    return raised.value


# -- errors ------------------------------------------------------------------------------------
def test_errors_carry_four_keys_the_pt_status_and_the_reason(
    rest_stack: RestStack, new_member: Callable[[str], Member]
) -> None:
    member = new_member("errors")
    err = rpc_error(member.client, "get_job", {"job_id": 987654321})
    assert err.code == "PT404"
    assert json.loads(str(err.details))["reason"] == "job_not_found"
    # supabase-py parsed the body (else: code = the HTTP status, 'JSON could not be generated')
    assert err.message and "JSON could not be generated" not in str(err.message)

    token = rest_stack.token(member.user_id, member.workspace_id)
    assert_error(
        post(rest_stack, "get_job", {"job_id": 987654321}, rest_stack.anon_key, token),
        404,
        "PT404",
        "job_not_found",
    )
    invalid = assert_error(
        post(rest_stack, "enqueue", {"queue": "", "type": "t"}, rest_stack.anon_key, token),
        400,
        "PT400",
        "invalid_input",
    )
    assert json.loads(invalid["details"])["field"] == "queue"
    err = rpc_error(member.client, "enqueue", {"queue": "", "type": "t"})
    assert err.code == "PT400" and json.loads(str(err.details))["field"] == "queue"


def test_anon_gets_401_on_every_function(rest_stack: RestStack, anon: Client) -> None:
    functions = api_functions(rest_stack.db_url)
    assert len(functions) > 20
    for name, _, required in functions:
        answer = post(rest_stack, name, sample_args(required), rest_stack.anon_key)
        assert answer.status_code == 401, (name, answer.text)
        assert set(answer.json()) == FOUR_KEYS
        assert rpc_error(anon, name, sample_args(required)).code == "42501", name


def test_an_unknown_argument_gets_postgrest_pgrst202(
    rest_stack: RestStack, service: Client
) -> None:
    err = rpc_error(service, "whoami", {"nope": 1})
    assert err.code == "PGRST202"
    assert "api.whoami(nope)" in str(err.message)
    assert_error(
        post(rest_stack, "get_job", {"id": 1}, rest_stack.service_role_key), 404, "PGRST202", None
    )


# -- 429 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("through", ["gateway", "postgrest"])
def test_a_rate_limited_call_answers_429_with_retry_after(
    rest_stack: RestStack, new_member: Callable[[str], Member], through: str
) -> None:
    if through == "postgrest" and not rest_stack.postgrest_url:
        pytest.skip("the project's PostgREST is reachable only through its gateway")
    member = new_member(f"rl-{through}")
    member.client.rpc(
        "configure_rate_limit",
        {"action": "enqueue", "scope": "workspace", "rate_per_second": 0.5, "burst": 1},
    ).execute()
    token = rest_stack.token(member.user_id, member.workspace_id)
    # PostgREST alone (no gateway of ours: as on a real Supabase project) sets the header too.
    base = rest_stack.url + "/rest/v1" if through == "gateway" else rest_stack.postgrest_url
    headers = {
        "apikey": rest_stack.anon_key,
        "authorization": f"Bearer {token}",
        "content-profile": "api",
    }
    first = httpx.post(f"{base}/rpc/enqueue", json={"queue": "rl", "type": "t"}, headers=headers)
    assert first.status_code == 200, first.text
    refused = httpx.post(f"{base}/rpc/enqueue", json={"queue": "rl", "type": "t"}, headers=headers)
    body = assert_error(refused, 429, "PT429", "rate_limited")
    details = json.loads(body["details"])
    assert 0 < details["retry_after"] <= 2
    assert refused.headers["retry-after"] == "2"  # whole seconds: ceil(retry_after)

    err = rpc_error(member.client, "enqueue", {"queue": "rl", "type": "t"})
    assert err.code == "PT429" and json.loads(str(err.details))["reason"] == "rate_limited"


def test_a_quota_429_carries_retry_after_too(
    rest_stack: RestStack, new_member: Callable[[str], Member]
) -> None:
    member = new_member("quota")
    member.client.rpc("configure_workspace", {"max_queued_jobs": 1}).execute()
    token = rest_stack.token(member.user_id, member.workspace_id)
    assert post(
        rest_stack, "enqueue", {"queue": "q", "type": "t"}, rest_stack.anon_key, token
    ).is_success
    refused = post(rest_stack, "enqueue", {"queue": "q", "type": "t"}, rest_stack.anon_key, token)
    assert_error(refused, 429, "PT429", "quota_exceeded")
    assert int(refused.headers["retry-after"]) >= 1


# -- tenancy -----------------------------------------------------------------------------------
def test_a_member_of_one_workspace_never_sees_anothers_rows(
    new_member: Callable[[str], Member],
) -> None:
    alice, bob = new_member("alice"), new_member("bob")
    queue = f"iso-{uuid.uuid4().hex[:8]}"
    job = call(alice.client, "enqueue", {"queue": queue, "type": "secret"})
    assert isinstance(job, dict)
    job_id = job["id"]

    def job_ids(client: Client, **filters: Any) -> list[int]:
        rows = call(client, "list_jobs", filters)
        return [row["job"]["id"] for row in rows]

    assert job_ids(alice.client, queue=queue) == [job_id]
    assert job_id not in job_ids(bob.client)
    assert job_ids(bob.client, queue=queue) == []
    bobs_queues = call(bob.client, "list_queues", {})
    assert queue not in [row["queue"]["name"] for row in bobs_queues]
    bobs_events = call(bob.client, "events_since", {})
    assert job_id not in [event.get("job_id") for event in bobs_events]
    assert queue not in json.dumps(bobs_events)
    assert rpc_error(bob.client, "get_job", {"job_id": job_id}).code == "PT404"
    assert rpc_error(bob.client, "cancel", {"job_id": job_id}).code in ("PT404", "PT403")
    # and alice still sees it
    assert call(alice.client, "get_job", {"job_id": job_id})["id"] == job_id


# -- GET for stable functions --------------------------------------------------------------------
def test_get_works_for_every_stable_function_and_volatile_ones_refuse_writes(
    rest_stack: RestStack, service: Client, new_member: Callable[[str], Member]
) -> None:
    member = new_member("get")
    job = call(member.client, "enqueue", {"queue": "g", "type": "t"})
    values = {"job_id": job["id"], "topic": f"collab_jobs:{member.workspace_id}"}
    stable = [(n, r) for n, vol, r in api_functions(rest_stack.db_url) if vol in ("s", "i")]
    users = for_users(rest_stack.db_url)
    assert {"get_job", "list_jobs", "whoami"} <= {n for n, _ in stable}
    for name, required in stable:
        params = {a: values.get(a, SAMPLE_VALUES[t]) for a, t in required}
        if name == "download_artifact":  # the service role's, and only with a signed URL's token
            assert rpc_error_get(service, name, params).code == "PT400"
            continue
        # GET reaches them: no such artifact, no snapshot of that service, no such collection
        if name in ("get_artifact", "sign_artifact", "routing_snapshot", "search"):
            assert rpc_error_get(member.client, name, params).code == "PT404"
            continue
        client = member.client if name in users else service
        assert call(client, name, params, get=True) is not None, name
    # GET runs read-only: a volatile function that writes is refused (25006 -> 405)
    err = rpc_error_get(member.client, "enqueue", {"queue": "g", "type": "t"})
    assert err.code == "25006"


def rpc_error_get(client: Client, fn: str, params: dict[str, Any]) -> APIError:
    with pytest.raises(APIError) as raised:
        client.rpc(fn, params, get=True).execute()
    return raised.value
