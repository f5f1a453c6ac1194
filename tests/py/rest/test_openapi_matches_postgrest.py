"""docs/openapi/collab.yaml (generated from the catalog) against what the real PostgREST serves
at ``/`` for the ``api`` schema: the same functions, with the same parameters (and the same
required ones). PostgREST lists only what the caller may execute (openapi-mode
follow-privileges), so its side is the union of what a signed-in user and the service role see."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml

from rest.conftest import RestStack

OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "collab.yaml"

Signature = tuple[frozenset[str], frozenset[str]]  # (parameters, required parameters)


def documented() -> dict[str, Signature]:
    spec = yaml.safe_load(OPENAPI.read_text())
    out: dict[str, Signature] = {}
    for path, item in spec["paths"].items():
        assert path.startswith("/rpc/"), path
        schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        out[path.removeprefix("/rpc/")] = (
            frozenset(schema.get("properties", {})),
            frozenset(schema.get("required", [])),
        )
    return out


def served(rest: RestStack, token: str) -> dict[str, Signature]:
    answer = httpx.get(
        f"{rest.url}/rest/v1/",
        headers={
            "apikey": rest.anon_key,
            "authorization": f"Bearer {token}",
            "accept-profile": "api",
        },
    )
    assert answer.status_code == 200, answer.text
    doc: dict[str, Any] = answer.json()
    assert doc["swagger"] == "2.0"
    out: dict[str, Signature] = {}
    for path, item in doc["paths"].items():
        if not path.startswith("/rpc/"):
            continue
        bodies = [p for p in item["post"].get("parameters", []) if p.get("in") == "body"]
        schema = bodies[0]["schema"] if bodies else {}
        out[path.removeprefix("/rpc/")] = (
            frozenset(schema.get("properties", {})),
            frozenset(schema.get("required", [])),
        )
    return out


def test_openapi_yaml_matches_what_postgrest_serves(rest_stack: RestStack) -> None:
    user = rest_stack.token("00000000-0000-0000-0000-0000000000cc")
    seen = {**served(rest_stack, user), **served(rest_stack, rest_stack.service_role_key)}
    docs = documented()
    only_served, only_documented = sorted(set(seen) - set(docs)), sorted(set(docs) - set(seen))
    assert not only_served and not only_documented, (
        f"served but not in collab.yaml: {only_served}; in collab.yaml but not served: "
        f"{only_documented} (regenerate it: tests/tools/openapi_from_catalog.py)"
    )
    differ = {
        name: {"yaml": docs[name], "postgrest": seen[name]}
        for name in docs
        if docs[name] != seen[name]
    }
    assert not differ, f"parameters differ: {differ}"
