"""The `collab db` and `collab migrate` commands, end to end, as a user runs them.

Bad input is one clear line on stderr and a non-zero exit, never a traceback.
Throwaway clusters live under .collab/tmp (the postgres OS user can reach it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import REPO, SCRATCH, cli_env, run_cli, schemas

from collab import embedded


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0, f"expected a failure, got: {proc.stdout}"
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def scratch_dir() -> Iterator[Path]:
    """A folder under .collab/tmp for one throwaway cluster; its cluster is stopped after."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    path = SCRATCH / f"pg-{uuid.uuid4().hex[:8]}"
    yield path
    if (path / "data").exists():
        run_cli("db", "stop", env=cli_env(COLLAB_PG_DIR=str(path), COLLAB_PG_PORT="auto"))
    shutil.rmtree(path, ignore_errors=True)


# -- collab migrate ----------------------------------------------------------------------------
def test_migrate_up_against_a_refusing_server_is_one_line() -> None:
    port = embedded.free_port()  # nothing listens there
    env = cli_env(COLLAB_DATABASE_URL=f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres")

    proc = run_cli("migrate", "up", env=env)

    assert_one_line_error(proc, "error:")


def test_migrate_up_to_an_unknown_revision_is_one_line(fresh_db: str) -> None:
    proc = run_cli("migrate", "up", "nosuchrev", env=cli_env(COLLAB_DATABASE_URL=fresh_db))

    assert_one_line_error(proc, "nosuchrev")


def test_migrate_up_status_and_down_base(fresh_db: str) -> None:
    env = cli_env(COLLAB_DATABASE_URL=fresh_db)

    up = run_cli("migrate", "up", env=env)
    status = run_cli("migrate", "status", env=env)
    down = run_cli("migrate", "down", "base", env=env)

    assert up.returncode == 0, up.stderr
    assert "pending: none" in status.stdout, status.stdout
    assert down.returncode == 0, down.stderr
    assert {"collab", "api"}.isdisjoint(schemas(fresh_db))


# -- collab db ---------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _wait_gone(pids: list[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{p}").exists() for p in pids):
        assert time.monotonic() < deadline, f"processes {pids} outlived their postmaster"
        time.sleep(0.2)


def test_start_twice_is_a_noop_and_a_stale_pid_file_is_recovered(scratch_dir: Path) -> None:
    env = cli_env(COLLAB_PG_DIR=str(scratch_dir), COLLAB_PG_PORT="auto")

    first = run_cli("db", "start", env=env)
    assert first.returncode == 0, first.stderr
    cluster = embedded.EmbeddedPostgres(base=scratch_dir, port="auto")
    pid = cluster.status().pid
    assert pid is not None

    second = run_cli("db", "start", env=env)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    assert cluster.status().pid == pid, "a second start left the running cluster alone"

    # a crash: the postmaster dies and leaves its postmaster.pid behind
    children = _children(pid)
    os.kill(pid, signal.SIGKILL)
    _wait_gone([pid, *children])
    assert (scratch_dir / "data" / "postmaster.pid").exists()

    third = run_cli("db", "start", env=env)
    assert third.returncode == 0, third.stderr
    st = cluster.status()
    assert st.running and st.pid != pid

    stop = run_cli("db", "stop", env=env)
    assert stop.returncode == 0, stop.stderr
    assert not cluster.status().running


def test_a_port_taken_by_another_program_is_one_line(scratch_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = cli_env(COLLAB_PG_DIR=str(scratch_dir), COLLAB_PG_PORT=str(port))

        proc = run_cli("db", "start", env=env)

    assert_one_line_error(proc, "port", str(port))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a folder owned by another user")
def test_a_data_directory_owned_by_someone_else_is_one_line(scratch_dir: Path) -> None:
    scratch_dir.mkdir(parents=True)  # owned by root, while the cluster runs as postgres
    env = cli_env(COLLAB_PG_DIR=str(scratch_dir), COLLAB_PG_PORT="auto")

    proc = run_cli("db", "start", env=env)

    assert_one_line_error(proc, "owned by")


# -- pip install . into a new venv, used from outside the repo ---------------------------------
def test_pip_install_into_a_new_venv_gives_a_working_migrate(tmp_path: Path, fresh_db: str) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    collab = str(venv / "bin" / "collab")
    env = cli_env(COLLAB_DATABASE_URL=fresh_db)

    up = subprocess.run(
        [collab, "migrate", "up"], env=env, cwd="/tmp", capture_output=True, text=True, check=False
    )
    assert up.returncode == 0, up.stderr
    assert {"collab", "api", "auth"} <= schemas(fresh_db)

    down = subprocess.run(
        [collab, "migrate", "down", "base"],
        env=env,
        cwd="/tmp",
        capture_output=True,
        text=True,
        check=False,
    )
    assert down.returncode == 0, down.stderr
    assert {"collab", "api"}.isdisjoint(schemas(fresh_db))
