"""The README's curl and supabase-py examples, run as written against the test stack."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import VENV_BIN

from rest.conftest import RestStack

README = Path(__file__).resolve().parents[3] / "README.md"


def example(name: str) -> str:
    """The fenced block right after ``<!-- readme-test: NAME -->``."""
    found = re.search(
        rf"<!-- readme-test: {re.escape(name)} -->\n```\w+\n(.*?)\n```", README.read_text(), re.S
    )
    assert found is not None, f"README has no example {name!r}"
    return found.group(1)


@pytest.fixture
def env(rest_stack: RestStack) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "SUPABASE_URL": rest_stack.url,
        "SUPABASE_ANON_KEY": rest_stack.anon_key,
        "SUPABASE_SERVICE_ROLE_KEY": rest_stack.service_role_key,
        "COLLAB_JWT_SECRET": rest_stack.jwt_secret,
    }


def test_the_curl_example_then_the_supabase_py_example(env: dict[str, str]) -> None:
    script = example("curl") + "\nprintf '\\nTOKEN=%s\\n' \"$TOKEN\"\n"
    curl = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert curl.returncode == 0, curl.stderr
    assert '"status":"queued"' in curl.stdout.replace(" ", "")
    assert '"queue":"emails"' in curl.stdout.replace(" ", "")
    token = curl.stdout.strip().splitlines()[-1].removeprefix("TOKEN=")

    py = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", example("supabase-py")],
        env={**env, "TOKEN": token},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert py.returncode == 0, py.stderr
    lines = py.stdout.splitlines()
    assert lines[0].startswith("enqueued ") and lines[0].endswith(" queued")
    assert lines[1].startswith("jobs [") and len(lines[1].split(",")) == 2  # curl's and this one
    assert lines[2] == "PT404 job_not_found"
