"""PostgREST 12 sends the message of a PTxxx error as the HTTP reason phrase, verbatim. Some
messages echo what the caller sent (``collab.check_name``: "queue must be ... (got '…')"), so a
control character in it broke the response (the gateway answered 502) and CR LF injected
headers into PostgREST's answer (response splitting). Found by schemathesis
(test_schemathesis.py); ``collab.raise_error`` now replaces control characters in every message
with '?'."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from rest.conftest import RestStack, local_only

QUEUE = "bad\r\nX-Injected: yes\x0b"


def test_a_name_with_cr_lf_cannot_inject_headers_through_the_gateway(rest_stack: RestStack) -> None:
    answer = httpx.post(
        f"{rest_stack.url}/rest/v1/rpc/enqueue",
        json={"queue": QUEUE, "type": "t"},
        headers={"apikey": rest_stack.service_role_key, "content-profile": "api"},
        timeout=30,
    )
    assert answer.status_code == 400, answer.text
    assert "x-injected" not in answer.headers
    body = answer.json()
    details = json.loads(body["details"])
    assert (details["reason"], details["field"]) == ("invalid_input", "queue")
    assert "\r" not in body["message"] and "\x0b" not in body["message"]


@local_only
def test_raise_error_replaces_control_characters_in_every_message(rest_stack: RestStack) -> None:
    with psycopg.connect(rest_stack.db_url) as conn, pytest.raises(psycopg.Error) as raised:
        conn.execute(
            "select collab.raise_error('PT409', 'workspace_exists', %s, 'name')",
            ["a workspace called 'x\r\nX-Injected: yes\x0b' already exists"],
        )
    assert raised.value.diag.message_primary == (
        "a workspace called 'x??X-Injected: yes?' already exists"
    )


@local_only
def test_postgrest_status_line_carries_no_control_character(rest_stack: RestStack) -> None:
    body = json.dumps({"queue": QUEUE, "type": "t"}).encode()
    where = urlsplit(rest_stack.postgrest_url)
    request = (
        "POST /rpc/enqueue HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Profile: api\r\nAuthorization: Bearer {rest_stack.service_role_key}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection((where.hostname or "127.0.0.1", where.port or 80)) as raw:
        raw.sendall(request)
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert head[0].startswith(b"HTTP/1.1 400 "), head[0]
    assert not any(line.lower().startswith(b"x-injected") for line in head)
    assert b"\x0b" not in head[0]
