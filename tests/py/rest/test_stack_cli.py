"""``collab stack up | status | env | down`` and ``collab token`` as a user runs them: over a
migrated test database (COLLAB_DATABASE_URL), on free ports, in a stack folder of its own."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from helpers import VENV_BIN, create_database, drop_database

from rest.conftest import local_only

pytestmark = local_only

COLLAB = str(VENV_BIN / "collab")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COLLAB, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def cli_env(server_url: str, template_db: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    name = f"collab_t_{os.getpid()}_stackcli"
    db_url = create_database(server_url, name, template_db)
    env = {
        **os.environ,
        "COLLAB_DATABASE_URL": db_url,
        "COLLAB_STACK_DIR": str(tmp_path / "stack"),
        "COLLAB_API_PORT": "auto",
    }
    try:
        yield env
    finally:
        run(env, "stack", "down")
        drop_database(server_url, name)


def test_up_status_env_token_down(cli_env: dict[str, str]) -> None:
    up = run(cli_env, "stack", "up")
    assert up.returncode == 0, up.stderr
    assert "the stack is up" in up.stdout and "PostgREST 12.0.2" in up.stdout

    again = run(cli_env, "stack", "up")
    assert again.returncode == 0 and "already running" in again.stdout

    status = run(cli_env, "stack", "status")
    assert status.returncode == 0
    fields = dict(line.strip().split(": ", 1) for line in status.stdout.splitlines())
    for key in ("API URL", "DB URL", "anon key", "service_role key", "JWT secret"):
        assert fields[key], key

    env = run(cli_env, "stack", "env")
    exports = dict(line.removeprefix("export ").split("=", 1) for line in env.stdout.splitlines())
    assert set(exports) == {
        "SUPABASE_URL",
        "SUPABASE_ANON_KEY",
        "SUPABASE_SERVICE_ROLE_KEY",
        "SUPABASE_DB_URL",
        "COLLAB_DATABASE_URL",
    }
    assert exports["SUPABASE_URL"] == fields["API URL"]
    assert exports["COLLAB_DATABASE_URL"] == cli_env["COLLAB_DATABASE_URL"]

    user, workspace = "5b7c5f55-7a5f-4d0e-9a43-3d3e8f0a1c01", "5b7c5f55-7a5f-4d0e-9a43-3d3e8f0a1c02"
    minted = run(
        cli_env,
        "token",
        "--role",
        "authenticated",
        "--sub",
        user,
        "--workspace",
        workspace,
        "--ttl",
        "15m",
    )
    assert minted.returncode == 0, minted.stderr
    claims = jwt.decode(
        minted.stdout.strip(), fields["JWT secret"], algorithms=["HS256"], audience="authenticated"
    )
    assert claims["sub"] == user and claims["workspace_id"] == workspace
    assert claims["role"] == "authenticated" and claims["exp"] - claims["iat"] == 900
    signed_in = httpx.post(
        f"{exports['SUPABASE_URL']}/rest/v1/rpc/create_workspace",
        json={"name": f"cli-{user}"},
        headers={
            "apikey": exports["SUPABASE_ANON_KEY"],
            "content-profile": "api",
            "authorization": f"Bearer {run(cli_env, 'token', '--sub', user).stdout.strip()}",
        },
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["role"] == "owner"

    down = run(cli_env, "stack", "down")
    assert down.returncode == 0 and "gateway" in down.stdout and "postgrest" in down.stdout
    assert "nginx" in down.stdout
    assert "database" not in down.stdout  # it did not start the database: it leaves it
    assert run(cli_env, "stack", "status").returncode == 3
    with pytest.raises(httpx.ConnectError):
        httpx.get(exports["SUPABASE_URL"] + "/rest/v1/")


def test_a_taken_port_and_a_missing_binary_are_one_clear_line(cli_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = run({**cli_env, "COLLAB_API_PORT": str(port)}, "stack", "up")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: port {port} (the API gateway) is already in use by another program: "
        "stop it or set COLLAB_API_PORT"
    ]
    missing = run({**cli_env, "COLLAB_POSTGREST": "/nonexistent/postgrest"}, "stack", "up")
    assert missing.returncode == 1
    assert len(missing.stderr.strip().splitlines()) == 1
    assert "COLLAB_POSTGREST='/nonexistent/postgrest' is not an executable" in missing.stderr
    no_nginx = run({**cli_env, "COLLAB_NGINX": "/nonexistent/nginx"}, "stack", "up")
    assert no_nginx.returncode == 1
    assert no_nginx.stderr.strip().splitlines() == [
        "error: COLLAB_NGINX='/nonexistent/nginx' is not an executable file"
    ]
    assert run(cli_env, "stack", "status").returncode == 3  # nothing left running


def test_token_needs_a_sub_for_users(cli_env: dict[str, str]) -> None:
    refused = run(cli_env, "token", "--role", "authenticated")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: --sub UUID is required for --role authenticated"
    bad = run(cli_env, "token", "--sub", "not-a-uuid")
    assert bad.returncode == 1 and "--sub must be a UUID" in bad.stderr
