"""The RPC contract through supabase-js, run by Deno (tests/js/rest/rest_contract_test.ts), and
the README's supabase-js example, against the same stack as the supabase-py suite.

Deno and the npm: modules come from ``make setup`` (tests/js/install.sh): Deno is the pinned
npm package ``deno`` under tests/js/node_modules, the modules are cached in ``.collab/deno``;
the tests run with ``--cached-only``, so they need no network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from rest.conftest import RestStack
from rest.test_rest_contract import api_functions, sample_args

REPO = Path(__file__).resolve().parents[3]
JS_TESTS = REPO / "tests" / "js"
README = REPO / "README.md"


def deno_binary() -> Path:
    found = sorted(JS_TESTS.glob("node_modules/@deno/*/deno"))
    if not found:
        pytest.fail("Deno is not installed under tests/js: run `make setup`", pytrace=False)
    return found[0]


def deno_env(rest: RestStack) -> dict[str, str]:
    return {
        **os.environ,
        "DENO_DIR": os.environ.get("COLLAB_DENO_DIR", str(REPO / ".collab" / "deno")),
        "DENO_NO_UPDATE_CHECK": "1",
        "NO_COLOR": "1",
        "SUPABASE_URL": rest.url,
        "SUPABASE_ANON_KEY": rest.anon_key,
        "SUPABASE_SERVICE_ROLE_KEY": rest.service_role_key,
        "SUPABASE_JWT_SECRET": rest.jwt_secret,
    }


def deno(rest: RestStack, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``deno <args>`` offline with network access to the stack only; its output."""
    host = urlsplit(rest.url).netloc
    command = [str(deno_binary()), *args[:1], "--cached-only", "--no-prompt"]
    command += [f"--allow-net={host}", "--allow-env", *args[1:]]
    done = subprocess.run(
        command,
        cwd=JS_TESTS,
        env=env or deno_env(rest),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def test_the_contract_through_supabase_js(rest_stack: RestStack) -> None:
    calls = {name: sample_args(required) for name, _, required in api_functions(rest_stack.db_url)}
    env = {**deno_env(rest_stack), "COLLAB_API_CALLS": json.dumps(calls)}
    output = deno(
        rest_stack, "test", "--config", "rest/deno.json", "rest/rest_contract_test.ts", env=env
    )
    assert re.search(r"ok \| 4 passed \| 0 failed", output), output


def test_the_readme_supabase_js_example(rest_stack: RestStack, tmp_path: Path) -> None:
    found = re.search(
        r"<!-- readme-test: supabase-js -->\n```ts\n(.*?)\n```", README.read_text(), re.S
    )
    assert found is not None, "README has no supabase-js example"
    script = tmp_path / "readme_example.ts"
    script.write_text(found.group(1))
    token_env = deno_env(rest_stack)
    token_env["TOKEN"] = rest_stack.token(str(uuid.uuid4()))
    output = deno(rest_stack, "run", "--config", "rest/deno.json", str(script), env=token_env)
    lines = output.splitlines()
    assert lines[0].startswith("workspace "), output
    assert lines[1].startswith("enqueued ") and lines[1].endswith(" queued"), output
    assert lines[2] == "PT404 job_not_found", output
