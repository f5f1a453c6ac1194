"""The Edge Functions (edge_functions/) under ``collab stack``: ``deno test`` of each function
(edge_functions/tests/<name>-test.ts) against the running stack (the real PostgREST and
database, the gateway's /functions/v1 and the Deno runner the stack started), plus the
gateway's own rules for the route. Deno is the pinned one of tests/js (``make setup``); the
functions import nothing from a registry, so the run is offline."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from rest.conftest import RestStack

REPO = Path(__file__).resolve().parents[3]
FUNCTIONS = REPO / "edge_functions"
NAMES = ["metrics-overview", "jobs-recent", "artifacts-list", "sign-artifact"]


def deno_binary() -> Path:
    found = sorted((REPO / "tests" / "js").glob("node_modules/@deno/*/deno"))
    if not found:
        pytest.fail("Deno is not installed under tests/js: run `make setup`", pytrace=False)
    return found[0]


@pytest.mark.parametrize("name", NAMES)
def test_deno_test_of_each_function(artifacts_stack: RestStack, name: str) -> None:
    host = urlsplit(artifacts_stack.url).netloc
    env = {
        **os.environ,
        "DENO_DIR": os.environ.get("COLLAB_DENO_DIR", str(REPO / ".collab" / "deno")),
        "DENO_NO_UPDATE_CHECK": "1",
        "NO_COLOR": "1",
        "SUPABASE_URL": artifacts_stack.url,
        "SUPABASE_ANON_KEY": artifacts_stack.anon_key,
        "SUPABASE_JWT_SECRET": artifacts_stack.jwt_secret,
    }
    done = subprocess.run(
        [
            str(deno_binary()),
            "test",
            "--cached-only",
            "--no-prompt",
            f"--allow-net={host}",
            "--allow-env",
            "--config",
            "tests/deno.json",
            f"tests/{name}-test.ts",
        ],
        cwd=FUNCTIONS,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert re.search(r"ok \| \d+ passed \| 0 failed", output), output


def test_the_gateway_routes_only_function_folders(artifacts_stack: RestStack) -> None:
    empty = httpx.get(f"{artifacts_stack.url}/functions/v1/", timeout=30)
    assert empty.status_code == 400 and empty.json() == {"msg": "missing function name in request"}
    unknown = httpx.post(f"{artifacts_stack.url}/functions/v1/_shared", timeout=30)
    assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"
