"""The gateway's own rules (Kong's part of a Supabase project): the apikey, the Authorization
fallback, the reserved /functions/v1, /metrics, /api/metrics/summary and /api/metrics/routing,
CORS."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from collab import stack
from rest.conftest import RestStack, local_only

pytestmark = local_only

FOUR_KEYS = {"code", "message", "details", "hint"}


def test_rest_needs_an_apikey_and_says_so_in_postgrest_shape(rest_stack: RestStack) -> None:
    url = f"{rest_stack.url}/rest/v1/rpc/whoami"
    missing = httpx.post(url, json={}, headers={"content-profile": "api"})
    assert missing.status_code == 401
    assert set(missing.json()) == FOUR_KEYS
    assert json.loads(missing.json()["details"])["reason"] == "no_api_key"
    # a user JWT alone is not an API key (Kong's key-auth)
    token = rest_stack.token("00000000-0000-0000-0000-0000000000aa")
    bearer_only = httpx.post(url, json={}, headers={"authorization": f"Bearer {token}"})
    assert bearer_only.status_code == 401
    wrong = httpx.post(url, json={}, headers={"apikey": token})
    assert wrong.status_code == 401
    assert json.loads(wrong.json()["details"])["reason"] == "invalid_api_key"


def test_the_apikey_stands_for_authorization_when_absent_and_never_reaches_postgrest(
    rest_stack: RestStack,
) -> None:
    url = f"{rest_stack.url}/rest/v1/rpc/whoami"
    by_header = httpx.post(
        url, json={}, headers={"apikey": rest_stack.service_role_key, "content-profile": "api"}
    )
    assert by_header.status_code == 200, by_header.text
    assert by_header.json()["role"] == "service"
    # ?apikey= works and is stripped: PostgREST would read it as an argument (PGRST202)
    by_query = httpx.get(
        url,
        params={"apikey": rest_stack.service_role_key},
        headers={"accept-profile": "api"},
    )
    assert by_query.status_code == 200, by_query.text
    assert by_query.json()["role"] == "service"


def test_a_users_authorization_wins_over_the_apikey(rest_stack: RestStack) -> None:
    user = str(uuid.uuid4())
    answer = httpx.post(
        f"{rest_stack.url}/rest/v1/rpc/create_workspace",
        json={"name": f"gw-{user}"},
        headers={
            "apikey": rest_stack.anon_key,
            "authorization": f"Bearer {rest_stack.token(user)}",
            "content-profile": "api",
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "owner"  # the signed-in user, not anon (401)


def test_functions_v1_verifies_the_jwt(rest_stack: RestStack) -> None:
    # The Edge Functions are served (tests/py/artifacts); without a JWT, Supabase's 401.
    answer = httpx.post(f"{rest_stack.url}/functions/v1/jobs-recent", json={})
    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHORIZED_NO_AUTH_HEADER"


def test_metrics_is_the_prometheus_text_of_the_callers_workspace(rest_stack: RestStack) -> None:
    assert httpx.get(f"{rest_stack.url}/metrics").status_code == 401
    scrape = httpx.get(
        f"{rest_stack.url}/metrics",
        headers={"authorization": f"Bearer {rest_stack.service_role_key}"},
    )
    assert scrape.status_code == 200, scrape.text
    assert scrape.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE collab_jobs_enqueued_total counter" in scrape.text


def test_metrics_summary_answers_as_the_rpc(rest_stack: RestStack) -> None:
    headers = {"apikey": rest_stack.service_role_key}
    summary = httpx.get(f"{rest_stack.url}/api/metrics/summary?since=all", headers=headers)
    assert summary.status_code == 200, summary.text
    rpc = httpx.post(
        f"{rest_stack.url}/rest/v1/rpc/metrics_summary",
        json={"since": "all"},
        headers={**headers, "content-profile": "api"},
    )
    assert set(summary.json()) == set(rpc.json())
    assert summary.json()["totals"]["counters"].keys() == rpc.json()["totals"]["counters"].keys()
    bad = httpx.get(f"{rest_stack.url}/api/metrics/summary?since=soon", headers=headers)
    assert bad.status_code == 400
    assert set(bad.json()) == FOUR_KEYS


def test_metrics_routing_answers_as_the_snapshot_rpc(rest_stack: RestStack) -> None:
    """/api/metrics/routing?service=chat is api.routing_snapshot's JSON (the latest ranking,
    candidates in rank order); unknown service: 404 in PostgREST's shape; no caller: 401."""
    user = str(uuid.uuid4())
    rpc = f"{rest_stack.url}/rest/v1/rpc"
    headers = {"apikey": rest_stack.anon_key, "content-profile": "api"}
    made = httpx.post(
        f"{rpc}/create_workspace",
        json={"name": f"gw-routing-{user[:8]}"},
        headers={**headers, "authorization": f"Bearer {rest_stack.token(user)}"},
    )
    assert made.status_code == 200, made.text
    token = rest_stack.token(user, made.json()["workspace_id"])
    headers["authorization"] = f"Bearer {token}"
    for name, price in (("cheap", 1), ("dear", 3)):
        route = httpx.post(
            f"{rpc}/put_route",
            json={
                "service": "chat",
                "name": name,
                "provider": "p",
                "model": name,
                "input_price": price,
                "output_price": price,
            },
            headers=headers,
        )
        assert route.status_code == 200, route.text
    strategy = httpx.post(
        f"{rpc}/configure_routing", json={"service": "chat", "strategy": "cost"}, headers=headers
    )
    assert strategy.status_code == 200, strategy.text
    ranked = httpx.post(f"{rpc}/rank_routes", json={"service": "chat"}, headers=headers)
    assert ranked.status_code == 200, ranked.text
    url = f"{rest_stack.url}/api/metrics/routing"
    shown = httpx.get(url, params={"service": "chat"}, headers=headers)
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"].startswith("application/json")
    same = httpx.post(f"{rpc}/routing_snapshot", json={"service": "chat"}, headers=headers)
    assert shown.json() == same.json()
    assert shown.json()["snapshot_id"] == ranked.json()["snapshot_id"]
    assert [(c["route"], c["rank"]) for c in shown.json()["candidates"]] == [
        ("cheap", 1),
        ("dear", 2),
    ]
    assert {"cost_estimate", "latency_ms", "error_rate", "cooldown_until"} <= set(
        shown.json()["candidates"][0]
    )
    missing = httpx.get(url, params={"service": "nothing-here"}, headers=headers)
    assert missing.status_code == 404
    assert set(missing.json()) == FOUR_KEYS
    assert json.loads(missing.json()["details"])["reason"] == "snapshot_not_found"
    assert httpx.get(url, params={"service": "chat"}).status_code == 401


def test_cors_as_supabase(rest_stack: RestStack) -> None:
    url = f"{rest_stack.url}/rest/v1/rpc/whoami"
    preflight = httpx.options(
        url,
        headers={
            "origin": "http://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "apikey, authorization, content-profile, x-client-info",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert all(h in allowed for h in ("apikey", "authorization", "content-profile"))
    call = httpx.post(
        url,
        json={},
        headers={
            "origin": "http://app.example",
            "apikey": rest_stack.service_role_key,
            "content-profile": "api",
        },
    )
    assert call.status_code == 200
    assert call.headers["access-control-allow-origin"] == "*"
    exposed = call.headers["access-control-expose-headers"].lower()
    assert "content-range" in exposed and "retry-after" in exposed


def test_bodies_stream_both_ways_and_postgrest_headers_pass(rest_stack: RestStack) -> None:
    headers = {"apikey": rest_stack.service_role_key, "content-profile": "api"}
    blob = "x" * 500_000
    made = httpx.post(
        f"{rest_stack.url}/rest/v1/rpc/enqueue",
        json={"queue": "big", "type": "t", "payload": {"blob": blob}},
        headers=headers,
    )
    assert made.status_code == 200, made.text[:200]
    job_id = made.json()["id"]
    with httpx.stream(
        "GET",
        f"{rest_stack.url}/rest/v1/rpc/get_job",
        params={"job_id": job_id},
        headers={"apikey": rest_stack.service_role_key, "accept-profile": "api"},
    ) as answer:
        assert answer.status_code == 200
        body = b"".join(answer.iter_bytes())
    assert json.loads(body)["payload"]["blob"] == blob
    counted = httpx.get(
        f"{rest_stack.url}/rest/v1/rpc/list_jobs",
        params={"queue": "big"},
        headers={
            "apikey": rest_stack.service_role_key,
            "accept-profile": "api",
            "prefer": "count=exact",
        },
    )
    assert counted.status_code == 200
    assert counted.headers["content-range"] == "0-0/1"
    assert counted.headers["content-profile"] == "api"
    head = httpx.head(
        f"{rest_stack.url}/rest/v1/rpc/list_queues",
        headers={"apikey": rest_stack.service_role_key, "accept-profile": "api"},
    )
    assert head.status_code == 200 and head.content == b""


def test_a_gateway_whose_postgrest_is_gone_answers_502(
    rest_stack: RestStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    own = stack.Stack(tmp_path_factory.mktemp("stack-502"))
    state = own.up(rest_stack.db_url, api_port="auto", postgrest_port="auto")
    keys = own.secrets()
    assert keys is not None
    try:
        assert stack.POSTGREST.stop(own.dir)
        answer = httpx.post(
            f"{state.api_url}/rest/v1/rpc/whoami",
            json={},
            headers={"apikey": keys.service_role_key},
        )
        assert answer.status_code == 502
        assert set(answer.json()) == FOUR_KEYS
        assert json.loads(answer.json()["details"])["reason"] == "upstream_unavailable"
        assert not own.running()
    finally:
        stopped = own.down(stop_db=False)  # and the Edge Functions runner, where Deno is
        assert "gateway" in stopped and "postgrest" not in stopped


def test_the_rest_fast_path_keeps_the_query_as_sent_and_varies_on_origin(
    rest_stack: RestStack,
) -> None:
    # ?apikey= between other parameters is taken out, the rest reaches PostgREST as encoded
    answer = httpx.get(
        f"{rest_stack.url}/rest/v1/rpc/list_jobs?queue=no%20such%20queue"
        f"&apikey={rest_stack.service_role_key}&limit=1",
        headers={"accept-profile": "api"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == []
    # a server's call (no Origin) gets no CORS headers, but the Vary that says it could have
    assert "access-control-allow-origin" not in answer.headers
    assert "origin" in answer.headers["vary"].lower()
    assert answer.headers["content-length"] == str(len(answer.content))
