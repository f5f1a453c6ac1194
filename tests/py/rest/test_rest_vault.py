"""A vault refusal through PostgREST (issue 15): api.read_secret returns its refusal (so that
the denied read's audit row commits) in PostgREST's error shape and sets the HTTP status, so
over REST it is an ordinary 404/409/410 error, and supabase-py raises it like any other."""

from __future__ import annotations

import json
from typing import Any

import httpx
import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import ClientOptions, create_client

from collab import stack
from collab.vault import install_master_key
from rest.conftest import RestStack, local_only

pytestmark = [
    local_only,
    pytest.mark.filterwarnings(
        "ignore:The '(timeout|verify)' parameter is deprecated:DeprecationWarning"
    ),
]

FOUR_KEYS = {"code", "message", "details", "hint"}


def test_read_secret_refusals_carry_their_http_status_and_leave_their_audit_row(
    rest_stack: RestStack,
) -> None:
    install_master_key(rest_stack.db_url)
    rpc = f"{rest_stack.url}/rest/v1/rpc"
    service = stack.mint_token(rest_stack.jwt_secret, "service_role", ttl=600)
    headers = {"apikey": rest_stack.service_role_key, "content-profile": "api"}
    made = httpx.post(
        f"{rpc}/create_workspace",
        json={"name": "rest-vault"},
        headers={**headers, "authorization": f"Bearer {service}"},
    )
    assert made.status_code == 200, made.text
    workspace = made.json()["workspace_id"]
    token = stack.mint_token(rest_stack.jwt_secret, "service_role", workspace=workspace, ttl=600)
    headers["authorization"] = f"Bearer {token}"

    def post(fn: str, **args: Any) -> httpx.Response:
        return httpx.post(f"{rpc}/{fn}", json=args, headers=headers)

    def refused(answer: httpx.Response, status: int, reason: str) -> None:
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert set(body) == FOUR_KEYS, body
        assert body["code"] == f"PT{status}"
        assert json.loads(body["details"])["reason"] == reason

    refused(post("read_secret", name="nope"), 404, "secret_not_found")

    assert post("put_secret", name="kept", value="sk-rest-kept-0001").status_code == 200
    read = post("read_secret", name="kept")
    assert read.status_code == 200, read.text
    assert read.json()["value"] == "sk-rest-kept-0001"

    assert post("put_secret", name="gone", value="sk-rest-gone-0002").status_code == 200
    assert post("delete_secret", name="gone").status_code == 200
    refused(post("read_secret", name="gone"), 410, "secret_deleted")

    assert post("put_secret", name="bent", value="sk-rest-bent-0003").status_code == 200
    with psycopg.connect(rest_stack.db_url, autocommit=True) as conn:
        conn.execute(
            "update collab.secret_versions"
            " set ciphertext = set_byte(ciphertext, 20, (get_byte(ciphertext, 20) + 1) %% 256)"
            " where workspace_id = %s and name = 'bent'",
            [workspace],
        )
    refused(post("read_secret", name="bent"), 409, "secret_tampered")

    # supabase-py raises the returned refusal as it raises any PostgREST error
    client = create_client(
        rest_stack.url,
        rest_stack.service_role_key,
        options=ClientOptions(
            schema="api",
            headers={"Authorization": f"Bearer {token}"},
            auto_refresh_token=False,
            persist_session=False,
            postgrest_client_retry=False,
        ),
    )
    with pytest.raises(APIError) as err:
        client.rpc("read_secret", {"name": "nope"}).execute()
    assert err.value.code == "PT404"
    assert json.loads(str(err.value.details))["reason"] == "secret_not_found"

    # every refusal committed its audit row (the answer was an error, the transaction was not)
    audit = post("secret_audit")
    assert audit.status_code == 200, audit.text
    denied = sorted(
        (r["secret_name"], r["reason"]) for r in audit.json() if r["outcome"] == "denied"
    )
    assert denied == [
        ("bent", "secret_tampered"),
        ("gone", "secret_deleted"),
        ("nope", "secret_not_found"),
        ("nope", "secret_not_found"),
    ]
