"""docs/openapi/collab.yaml is valid OpenAPI 3.1 and describes exactly the api functions.

A new, renamed or re-parametered api function without its spec fails here: regenerate the file
with ``python tests/tools/openapi_from_catalog.py <database url>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from openapi_spec_validator import validate

SPEC_PATH = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "collab.yaml"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded = yaml.safe_load(SPEC_PATH.read_text())
    assert isinstance(loaded, dict)
    return loaded


def api_functions(db_url: str) -> dict[str, tuple[list[str], list[str]]]:
    """name -> (input parameter names, the required ones) of every function of schema api."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select p.proname::text, coalesce(p.proargnames, '{}'),"
            " coalesce(p.proargmodes::text[], '{}'), p.pronargs, p.pronargdefaults"
            " from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'api'"
        ).fetchall()
    found: dict[str, tuple[list[str], list[str]]] = {}
    for name, argnames, argmodes, nargs, ndefaults in rows:
        modes = argmodes or ["i"] * len(argnames)
        inputs = [a for a, m in zip(argnames, modes, strict=False) if m in ("i", "b")]
        assert name not in found, f"api.{name} is overloaded: PostgREST cannot choose (PGRST203)"
        found[name] = (inputs, inputs[: nargs - ndefaults])
    return found


def test_the_spec_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_every_api_function_has_a_path_and_every_path_a_function(
    db_url: str, spec: dict[str, Any]
) -> None:
    in_spec = {path.removeprefix("/rpc/") for path in spec["paths"] if path.startswith("/rpc/")}
    in_db = set(api_functions(db_url))
    assert in_spec - in_db == set(), "paths in docs/openapi/collab.yaml without an api function"
    assert in_db - in_spec == set(), "api functions missing from docs/openapi/collab.yaml"


def test_request_bodies_name_the_parameters(db_url: str, spec: dict[str, Any]) -> None:
    for name, (inputs, required) in api_functions(db_url).items():
        op = spec["paths"][f"/rpc/{name}"]["post"]
        body = op["requestBody"]["content"]["application/json"]["schema"]
        assert list(body["properties"]) == inputs, f"/rpc/{name}: parameters differ"
        assert body.get("required", []) == required, f"/rpc/{name}: required parameters differ"
        assert {"400", "401", "403"} <= set(op["responses"]), (
            f"/rpc/{name}: error responses missing"
        )


def test_errors_have_postgrest_body(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "message", "details", "hint"}


def test_the_spec_names_the_schema_revision_it_describes(db_url: str, spec: dict[str, Any]) -> None:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("select version_num from public.alembic_version").fetchone()
    assert row is not None
    assert spec["info"]["version"] == row[0], "regenerate docs/openapi/collab.yaml"


def test_the_hand_list_of_statuses_holds_only_what_the_catalog_cannot_show(db_url: str) -> None:
    """EXTRA_STATUSES names the statuses a function answers through the helpers it calls; one
    its own body already raises (or one always listed) would hide a stale entry."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
    from openapi_from_catalog import ALWAYS_STATUSES, EXTRA_STATUSES, RAISED

    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            f"select p.proname::text, {RAISED}"
            " from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'api'"
        ).fetchall()
    raised = {name: set(codes) for name, codes in rows}
    for name, statuses in EXTRA_STATUSES.items():
        assert name in raised, f"EXTRA_STATUSES names api.{name}, which does not exist"
        redundant = set(statuses) & (raised[name] | ALWAYS_STATUSES)
        assert not redundant, f"api.{name}: {sorted(redundant)} already come from the catalog"
