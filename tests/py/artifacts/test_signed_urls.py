"""Signed artifact URLs through the stack's gateway, as Supabase Storage serves them: a fresh
URL downloads bytes whose sha256 matches, with Content-Type, Content-Length, ETag and Range;
one second past expiry, one changed character of the token or of the path is refused with
Storage's error body; the token is a plain HS256 JWT of the project's secret (so Storage
accepts it); members of another workspace sign nothing of this one."""

from __future__ import annotations

import hashlib
import os
import time

import httpx
import jwt
import pytest
from rest.conftest import RestStack

from .conftest import User, invite

DATA = os.urandom(300_000)  # bigger than a buffered answer of the gateway's REST path


@pytest.fixture(scope="module")
def artifact(owner_a: User) -> dict[str, object]:
    made = owner_a.put("runs/1/output.bin", DATA, "application/octet-stream", metadata={"k": 1})
    assert isinstance(made, dict)
    return made


def signed_url(user: User, artifact_id: object, expires_in: int = 60) -> str:
    signed = user.rpc("sign_artifact", id=artifact_id, expires_in=expires_in)
    return f"{user.stack.url}/storage/v1{signed['signedURL']}"


def test_a_fresh_url_downloads_the_bytes(owner_a: User, artifact: dict[str, object]) -> None:
    answer = httpx.get(signed_url(owner_a, artifact["id"]), timeout=30)
    assert answer.status_code == 200, answer.text
    assert hashlib.sha256(answer.content).hexdigest() == artifact["sha256"]
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-length"] == str(len(DATA))
    assert answer.headers["etag"] == f'"{artifact["sha256"]}"'
    assert answer.headers["accept-ranges"] == "bytes"


def test_a_range_request_returns_the_slice(owner_a: User, artifact: dict[str, object]) -> None:
    url = signed_url(owner_a, artifact["id"])
    answer = httpx.get(url, headers={"range": "bytes=1000-1999"}, timeout=30)
    assert answer.status_code == 206
    assert answer.content == DATA[1000:2000]
    assert answer.headers["content-range"] == f"bytes 1000-1999/{len(DATA)}"
    suffix = httpx.get(url, headers={"range": "bytes=-10"}, timeout=30)
    assert suffix.status_code == 206 and suffix.content == DATA[-10:]
    past = httpx.get(url, headers={"range": f"bytes={len(DATA)}-"}, timeout=30)
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{len(DATA)}"


def test_if_none_match_gets_304(owner_a: User, artifact: dict[str, object]) -> None:
    answer = httpx.get(
        signed_url(owner_a, artifact["id"]),
        headers={"if-none-match": f'"{artifact["sha256"]}"'},
        timeout=30,
    )
    assert answer.status_code == 304 and answer.content == b""


def test_the_token_is_storages(
    artifacts_stack: RestStack, owner_a: User, artifact: dict[str, object]
) -> None:
    signed = owner_a.rpc("sign_artifact", id=artifact["id"], expires_in=120)
    claims = jwt.decode(signed["token"], artifacts_stack.jwt_secret, algorithms=["HS256"])
    assert claims["url"] == f"artifacts/{signed['path']}"
    assert claims["scope"] == "download"
    assert claims["exp"] - claims["iat"] == 120
    assert signed["signedURL"] == f"/object/sign/artifacts/{signed['path']}?token={signed['token']}"


def test_one_second_past_expiry_is_refused(owner_a: User, artifact: dict[str, object]) -> None:
    url = signed_url(owner_a, artifact["id"], expires_in=3)
    assert httpx.get(url, headers={"range": "bytes=0-0"}, timeout=30).status_code == 206
    exp = jwt.decode(url.split("?token=")[1], options={"verify_signature": False})["exp"]
    time.sleep(max(exp + 1 - time.time(), 0))  # one second past exp
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 400
    assert answer.json() == {"statusCode": "400", "error": "InvalidJWT", "message": "jwt expired"}


def test_one_changed_character_is_refused(owner_a: User, artifact: dict[str, object]) -> None:
    url = signed_url(owner_a, artifact["id"])
    base, token = url.split("?token=")
    position = len(token) - 5
    flipped = "A" if token[position] != "A" else "B"
    tampered = f"{base}?token={token[:position]}{flipped}{token[position + 1 :]}"
    answer = httpx.get(tampered, timeout=30)
    assert answer.status_code == 400 and answer.json()["error"] == "InvalidJWT"
    wrong_path = httpx.get(f"{base}x?token={token}", timeout=30)
    assert wrong_path.status_code == 400
    assert wrong_path.json()["error"] == "InvalidSignature"
    no_token = httpx.get(base, timeout=30)
    assert no_token.status_code == 400 and no_token.json()["error"] == "MissingParameter"


def test_another_workspace_signs_nothing_of_it(
    owner_b: User, owner_a: User, artifact: dict[str, object]
) -> None:
    answer = httpx.post(
        f"{owner_b.stack.url}/rest/v1/rpc/sign_artifact",
        json={"id": artifact["id"]},
        headers={**owner_b.headers(), "content-profile": "api"},
        timeout=30,
    )
    assert answer.status_code == 404
    assert '"artifact_not_found"' in answer.json()["details"]


def test_a_viewer_signs_what_they_read(owner_a: User, artifact: dict[str, object]) -> None:
    viewer = invite(owner_a, "viewer")
    answer = httpx.get(signed_url(viewer, artifact["id"]), timeout=30)
    assert answer.status_code == 200 and answer.content == DATA
