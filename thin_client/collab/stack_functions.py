"""What ``collab stack up`` adds for artifacts and the Edge Functions (issue 14).

* :func:`install_signing_key` gives the database the key that signs artifact URLs: the
  stack's JWT secret, written by ``collab.set_url_signing_key`` to a file of the data
  directory (never a table, so never in a dump; ``docs/artifacts.md``). Where Supabase's Vault
  exists the key is its secret ``collab_url_signing_key`` and nothing is written.
* :func:`start` runs the Edge Functions of ``edge_functions/`` in one Deno process
  (``deno serve edge_functions/_main/index.ts``, routing by function name) on a free port and
  returns its URL, or None when Deno is missing (``make setup`` installs it under tests/js):
  the gateway then answers 503 on ``/functions/v1``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import httpx
import psycopg

from collab import embedded
from collab.errors import SetupError


class Service(Protocol):
    """A detached process of the stack (``collab.stack.Service``)."""

    def pid_file(self, directory: Path) -> Path: ...

    def log(self, directory: Path) -> Path: ...

    def pid(self, directory: Path) -> int | None: ...


Spawn = Callable[[Sequence[str], Path, Mapping[str, str]], int]

HOST = "127.0.0.1"
MARKER = b"edge_functions/_main"
READY_TIMEOUT = 60.0
REPO = Path(__file__).resolve().parents[2]


def functions_dir() -> Path:
    return REPO / "edge_functions"


def config_path() -> str | None:
    path = functions_dir() / "config.toml"
    return str(path) if path.is_file() else None


def find_deno() -> Path | None:
    """COLLAB_DENO, else the pinned Deno of tests/js (``make setup``), else ``deno`` on PATH."""
    configured = os.environ.get("COLLAB_DENO")
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise SetupError(f"COLLAB_DENO={configured!r} is not an executable file")
        return Path(found)
    pinned = sorted((REPO / "tests" / "js" / "node_modules" / "@deno").glob("*/deno"))
    if pinned:
        return pinned[0]
    on_path = shutil.which("deno")
    return Path(on_path) if on_path else None


def install_signing_key(db_url: str, secret: str) -> None:
    """The URL signing key of the database (see the module's docstring); a warning on stderr,
    not a failure, when this login may not write it (signing then answers PT503)."""
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            row = conn.execute(
                "select pg_catalog.to_regclass('vault.decrypted_secrets') is not null"
            ).fetchone()
            if row is not None and row[0]:
                return
            conn.execute("select collab.set_url_signing_key(%s)", [secret])
    except psycopg.Error as exc:
        sys.stderr.write(
            "collab stack: could not install the URL signing key "
            f"({type(exc).__name__}: {str(exc).strip().splitlines()[0]}); signed artifact URLs "
            "answer PT503 until a superuser runs collab.set_url_signing_key (docs/artifacts.md)\n"
        )


def start(
    directory: Path, service: Service, spawn: Spawn, api_url: str, anon_key: str
) -> str | None:
    """Start the Deno runner of edge_functions/ (its URL), or None without Deno."""
    deno = find_deno()
    main = functions_dir() / "_main" / "index.ts"
    if deno is None or not main.is_file():
        return None
    port = embedded.free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(directory)),
        "DENO_DIR": os.environ.get("COLLAB_DENO_DIR", str(REPO / ".collab" / "deno")),
        "DENO_NO_UPDATE_CHECK": "1",
        "NO_COLOR": "1",
        "SUPABASE_URL": api_url,
        "SUPABASE_ANON_KEY": anon_key,
    }
    argv = [
        str(deno),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-prompt",
        f"--allow-net={HOST}",
        "--allow-env=SUPABASE_URL,SUPABASE_ANON_KEY",
        "--config",
        str(functions_dir() / "_main" / "deno.json"),
        str(main),
    ]
    pid = spawn(argv, service.log(directory), env)
    service.pid_file(directory).write_text(f"{pid}\n")
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if service.pid(directory) is None:
            raise SetupError(f"the Edge Functions runner exited: see {service.log(directory)}")
        try:
            httpx.get(url + "/", timeout=2.0)  # any answer (the router's 404) means it serves
            return url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SetupError(f"the Edge Functions runner did not answer {url} within {READY_TIMEOUT:.0f}s")
