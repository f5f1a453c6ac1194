"""The nginx front of ``collab stack`` (``collab.stack_nginx``): nginx listens on the API port and
serves /rest/v1 itself, straight to PostgREST, with the rules of the Python gateway
(``collab.gateway``), which now listens on an internal port and still serves /rest/v1 for what
nginx hands it (a query naming ``apikey``). The same requests sent to both must get the same
answers: status, body and headers, but for what only nginx sets (``Server``, ``Date``'s value,
``X-Collab-Front``) and the framing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from collab import stack
from rest.conftest import RestStack, local_only

pytestmark = local_only

# What differs by construction: nginx's own headers, the date, and the framing of the body.
FRAMING = {"date", "server", "x-collab-front", "content-length", "transfer-encoding", "connection"}


def _listening_inodes(port: int) -> set[str]:
    """The socket inodes listening on 127.0.0.1:``port`` (/proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and local == f"0100007F:{port:04X}":
            found.add(inode)
    return found


def test_nginx_listens_on_the_api_port_and_answers_rest_v1_itself(rest_stack: RestStack) -> None:
    port = int(rest_stack.url.rsplit(":", 1)[1])
    inodes = _listening_inodes(port)
    assert inodes, f"nothing listens on {port}"
    owners = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
            if any(f"socket:[{inode}]" in links for inode in inodes):
                owners.add(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0])
        except OSError:
            continue
    assert owners and all(b"nginx" in owner for owner in owners), owners

    answer = httpx.post(
        f"{rest_stack.url}/rest/v1/rpc/whoami",
        json={},
        headers={"apikey": rest_stack.service_role_key, "content-profile": "api"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-collab-front"] == "nginx"  # proxied by nginx, not the gateway
    assert answer.headers["server"] == "nginx"
    # the other paths are the gateway's, through nginx
    metrics = httpx.get(
        f"{rest_stack.url}/metrics",
        headers={"authorization": f"Bearer {rest_stack.service_role_key}"},
    )
    assert metrics.status_code == 200 and "x-collab-front" not in metrics.headers
    assert metrics.headers["server"] == "nginx"


def test_a_query_naming_apikey_is_the_python_gateways(rest_stack: RestStack) -> None:
    answer = httpx.get(
        f"{rest_stack.url}/rest/v1/rpc/whoami?apikey={rest_stack.service_role_key}",
        headers={"accept-profile": "api"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "service"
    assert "x-collab-front" not in answer.headers  # nginx handed it to the gateway


def _cases(rest: RestStack) -> list[tuple[str, str, dict[str, str], bytes | None]]:
    service = {"apikey": rest.service_role_key}
    anon = {"apikey": rest.anon_key}
    user = rest.token("00000000-0000-0000-0000-0000000000ab")
    origin = {"origin": "http://app.example"}
    post = {"content-profile": "api", "content-type": "application/json"}
    get = {"accept-profile": "api"}
    preflight = {**origin, "access-control-request-method": "POST"}
    return [
        ("POST", "/rpc/whoami", post, b"{}"),
        ("POST", "/rpc/whoami", {**post, "apikey": "nope"}, b"{}"),
        ("POST", "/rpc/whoami", {**post, "apikey": rest.anon_key.upper()}, b"{}"),
        ("POST", "/rpc/whoami", {**post, "authorization": f"Bearer {user}"}, b"{}"),
        ("POST", "/rpc/whoami", {**post, **service}, b"{}"),
        ("POST", "/rpc/whoami", {**post, **service, **origin}, b"{}"),
        ("POST", "/rpc/whoami", {**post, **anon, "authorization": f"Bearer {user}"}, b"{}"),
        ("POST", "/rpc/whoami", {**post, **anon, **origin}, b"{}"),
        ("POST", "/rpc/whoami", {**post, **origin}, b"{}"),
        ("GET", "/rpc/list_queues", {**get, **anon}, None),
        ("GET", "/rpc/list_queues", {**get, **service}, None),
        ("HEAD", "/rpc/list_queues", {**get, **service}, None),
        ("GET", "/rpc/list_jobs?queue=no%20such&limit=1", {**get, **service}, None),
        (
            "GET",
            "/rpc/list_jobs?queue=none&limit=1",
            {**get, **service, **origin, "prefer": "count=exact"},
            None,
        ),
        ("GET", "/rpc/get_job?job_id=not-a-uuid", {**get, **service}, None),
        ("GET", "/no_such_table", {**get, **service}, None),
        ("POST", "/rpc/no_such_function", {**post, **service}, b"{}"),
        ("POST", "/rpc/enqueue", {**post, **service}, b"{not json"),
        ("GET", "", {**get, **anon}, None),
        ("GET", "/", {**get, **service}, None),
        ("OPTIONS", "/rpc/whoami", {**preflight, "access-control-request-headers": "apikey"}, None),
        ("OPTIONS", "/rpc/whoami", preflight, None),
        ("OPTIONS", "/rpc/whoami", {**preflight, "access-control-request-method": "HEAD"}, None),
        ("OPTIONS", "/rpc/whoami", {**preflight, "access-control-request-method": "post"}, None),
        (
            "OPTIONS",
            "/rpc/whoami",
            {**preflight, "access-control-request-private-network": "true"},
            None,
        ),
        (
            "OPTIONS",
            "/rpc/whoami",
            {
                **preflight,
                "access-control-request-method": "TRACE",
                "access-control-request-private-network": "true",
            },
            None,
        ),
        ("OPTIONS", "/rpc/whoami", origin, None),  # not a preflight: the key is needed
        ("OPTIONS", "/rpc/whoami", {**origin, **service}, None),
        ("OPTIONS", "/rpc/whoami", {"access-control-request-method": "POST"}, None),
    ]


def _seen(answer: httpx.Response) -> dict[str, Any]:
    headers = sorted((k.lower(), v) for k, v in answer.headers.multi_items() if k not in FRAMING)
    try:
        body: Any = answer.json()
    except ValueError:
        body = answer.content
    return {"status": answer.status_code, "headers": headers, "body": body}


def test_nginx_answers_rest_v1_as_the_python_gateway_does(rest_stack: RestStack) -> None:
    assert rest_stack.gateway_url
    with httpx.Client(timeout=30) as http:
        for method, path, headers, body in _cases(rest_stack):
            answers = [
                http.request(method, f"{base}/rest/v1{path}", headers=headers, content=body)
                for base in (rest_stack.url, rest_stack.gateway_url)
            ]
            through_nginx, through_gateway = (_seen(a) for a in answers)
            assert answers[0].headers.get("x-collab-front") == "nginx", (method, path)
            assert "x-collab-front" not in answers[1].headers
            assert through_nginx == through_gateway, (method, path, headers)


def test_postgrest_gone_or_gateway_gone_is_a_502_in_postgrest_shape(
    rest_stack: RestStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    own = stack.Stack(tmp_path_factory.mktemp("stack-front"))
    state = own.up(rest_stack.db_url, api_port="auto", postgrest_port="auto")
    keys = own.secrets()
    assert keys is not None
    try:
        assert stack.POSTGREST.stop(own.dir)
        answer = httpx.post(
            f"{state.api_url}/rest/v1/rpc/whoami",
            json={},
            headers={"apikey": keys.service_role_key, "origin": "http://app.example"},
        )
        assert answer.status_code == 502
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["access-control-allow-origin"] == "*"
        body = answer.json()
        assert body["code"] == "PT502" and body["message"].startswith("PostgREST did not answer")
        assert json.loads(body["details"])["reason"] == "upstream_unavailable"
        assert stack.GATEWAY.stop(own.dir)
        gone = httpx.get(f"{state.api_url}/metrics")
        assert gone.status_code == 502
        assert json.loads(gone.json()["details"])["reason"] == "gateway_unavailable"
    finally:
        assert own.down(stop_db=False)[:1] == ["nginx"]
