"""Configuration read from the environment, in one place.

| variable | meaning | default |
| --- | --- | --- |
| COLLAB_DATABASE_URL | Postgres to use; when unset, the embedded cluster | (embedded) |
| COLLAB_HOME | project folder that holds `.collab/` | current directory |
| COLLAB_PG_DIR | embedded cluster folder (data, socket, log) | `$COLLAB_HOME/.collab/pg` |
| COLLAB_PG_PORT | embedded cluster TCP port on 127.0.0.1 (`auto`: a free one) | 54322 |
| COLLAB_PG_BIN | folder of the PostgreSQL server binaries | PostgreSQL 15's |
| COLLAB_PG_OS_USER | OS user the cluster runs as when started by root | postgres |
| COLLAB_STACK_DIR | `collab stack` folder (pid files, logs, secrets) | `$COLLAB_HOME/.collab/stack` |
| COLLAB_API_PORT | the stack's API port on 127.0.0.1, nginx's (`auto`: a free one) | 54321 |
| COLLAB_POSTGREST_PORT | the stack's PostgREST port on 127.0.0.1 (`auto`: a free one) | auto |
| COLLAB_POSTGREST | the PostgREST binary the stack runs | `stack/`'s, else `postgrest` on PATH |
| COLLAB_NGINX | the nginx binary the stack runs in front (collab.stack_nginx) | `nginx` on PATH or in /usr/sbin |
| COLLAB_AUTHENTICATOR_PASSWORD | password PostgREST logs in with (never changed when set) | `postgres` |
| COLLAB_JWT_SECRET | what `collab token` signs with (a real project's secret) | the stack's |
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PORT = 54322
DEFAULT_OS_USER = "postgres"


def home() -> Path:
    return Path(os.environ.get("COLLAB_HOME") or os.getcwd()).resolve()


def pg_dir() -> Path:
    configured = os.environ.get("COLLAB_PG_DIR")
    return Path(configured).resolve() if configured else home() / ".collab" / "pg"


def pg_port_setting() -> str:
    return os.environ.get("COLLAB_PG_PORT") or str(DEFAULT_PORT)


def pg_os_user() -> str:
    return os.environ.get("COLLAB_PG_OS_USER") or DEFAULT_OS_USER


def database_url_override() -> str | None:
    return os.environ.get("COLLAB_DATABASE_URL") or None


def stack_dir() -> Path:
    configured = os.environ.get("COLLAB_STACK_DIR")
    return Path(configured).resolve() if configured else home() / ".collab" / "stack"


def api_port_setting() -> str:
    return os.environ.get("COLLAB_API_PORT") or "54321"


def postgrest_port_setting() -> str:
    return os.environ.get("COLLAB_POSTGREST_PORT") or "auto"


def postgrest_binary() -> str | None:
    return os.environ.get("COLLAB_POSTGREST") or None


def authenticator_password() -> str | None:
    return os.environ.get("COLLAB_AUTHENTICATOR_PASSWORD") or None


def jwt_secret_override() -> str | None:
    return os.environ.get("COLLAB_JWT_SECRET") or None
