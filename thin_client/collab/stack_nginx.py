"""The stack's front: nginx on the API port (``collab stack up``), as Kong (nginx, OpenResty) is
in front of a Supabase project.

nginx serves ``/rest/v1/*`` itself, proxying straight to PostgREST with the Python gateway's
rules (``collab.gateway``: Kong's key-auth, the prefix stripped, the key hidden, CORS, the 502
when PostgREST is gone; the same JSON bodies, rendered by the gateway's own functions), and
passes every other path to the Python gateway on an internal port. The gateway still serves
``/rest/v1`` for what nginx hands it: a query that names ``apikey`` (which it strips and
decodes) and a raw path that is not literally under ``/rest/v1`` (``/rest%2Fv1/...``). Through
nginx a proxied request costs about a fifth of the CPU it cost through the Python gateway (0.3
against 1.6 ms on the 2-core machine) and adds about 0.2 ms at p50 over PostgREST alone
instead of 2 to 2.6 (bench/rest_overhead.py, docs/bench.md).

The configuration is rendered from ``stack_nginx.conf`` (beside this module) into the stack
folder at every ``up``: ``nginx.conf``, and under ``nginx/`` the master's pid file and the
temp paths; ``nginx.log`` (errors) and ``nginx-access.log``. nginx runs in the foreground of a
detached session (``daemon off``), so the pid ``up`` records is the master's. As root its
worker runs as root too (nginx's default, ``nobody``, could not enter a private stack folder),
as the gateway and PostgREST do; as another user, as that user.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from starlette.responses import Response

from collab.errors import SetupError
from collab.gateway_errors import CORS, error, invalid_api_key, no_api_key, unreachable

TEMPLATE = Path(__file__).resolve().parent / "stack_nginx.conf"
MARKER = b"nginx"
# Debian installs nginx in /usr/sbin, which is not on a normal user's PATH.
SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")
_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")  # a JWT: base64url parts and dots


def find_nginx() -> Path:
    """COLLAB_NGINX, else ``nginx`` on PATH or in an sbin folder."""
    configured = os.environ.get("COLLAB_NGINX")
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise SetupError(f"COLLAB_NGINX={configured!r} is not an executable file")
        return Path(found)
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
    found = shutil.which("nginx", path=path)
    if found is None:
        raise SetupError(
            "nginx not found: run `make setup` (as root: apt-get install nginx-light), "
            "put nginx on PATH or set COLLAB_NGINX"
        )
    return Path(found)


def nginx_version(binary: Path) -> str:
    """``nginx/1.22.1`` (``nginx -v`` prints it on stderr)."""
    proc = subprocess.run(
        [str(binary), "-v"], capture_output=True, text=True, timeout=30, check=False
    )
    text = (proc.stderr or proc.stdout).strip()
    if proc.returncode != 0 or not text:
        raise SetupError(f"{binary} -v failed: {text or proc.returncode}")
    return text.splitlines()[0].removeprefix("nginx version: ")


def _quoted(text: str) -> str:
    """``text`` inside a single-quoted nginx string: no variable, backslashes and quotes
    escaped (nginx's parser takes ``\\\\`` and ``\\'`` back)."""
    if "$" in text:
        raise ValueError(f"a '$' would be read by nginx as a variable: {text!r}")
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _body(response: Response) -> str:
    """A response's body for a ``return`` of nginx.conf."""
    return _quoted(bytes(response.body).decode())


def _key_pattern(key: str) -> str:
    if not _KEY.match(key):
        raise SetupError("the stack's API keys must be JWTs (secrets.json): run `collab stack up`")
    return key.replace(".", "\\.")


def render(
    *,
    directory: Path,
    api_port: int,
    gateway_port: int,
    postgrest_port: int,
    anon_key: str,
    service_role_key: str,
    root: bool | None = None,
) -> str:
    """nginx.conf for a stack folder (see the module's docstring)."""
    is_root = os.geteuid() == 0 if root is None else root
    methods: list[str] = list(CORS["allow_methods"])
    values = {
        "USER": "user root root;" if is_root else "# (not root: the workers run as this user)",
        "STATE": str(directory / "nginx"),
        "LOG": str(directory / "nginx.log"),
        "ACCESS_LOG": str(directory / "nginx-access.log"),
        "API_PORT": str(api_port),
        "GATEWAY_PORT": str(gateway_port),
        "POSTGREST_PORT": str(postgrest_port),
        "ANON_KEY_RE": _key_pattern(anon_key),
        "SERVICE_KEY_RE": _key_pattern(service_role_key),
        "CORS_EXPOSE": ", ".join(CORS["expose_headers"]),
        "CORS_METHODS": ", ".join(methods),
        "CORS_METHODS_RE": "|".join(re.escape(m) for m in methods),
        "CORS_MAX_AGE": str(CORS["max_age"]),
        "NO_API_KEY": _body(no_api_key()),
        "INVALID_API_KEY": _body(invalid_api_key()),
        "UPSTREAM_UNAVAILABLE": _body(unreachable("BadGateway")),
        "GATEWAY_UNAVAILABLE": _body(
            error(
                502,
                "gateway_unavailable",
                "The gateway did not answer",
                "see .collab/stack/gateway.log; `collab stack up` starts it again",
            )
        ),
    }
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    left = re.findall(r"@@[A-Z_]+@@", text)
    assert not left, f"unfilled placeholders in {TEMPLATE.name}: {left}"
    return text


def prepare(directory: Path) -> None:
    """The folders nginx writes to (its temp paths and pid file), private to the stack."""
    state = directory / "nginx"
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (state / sub).mkdir(mode=0o700, exist_ok=True)


def argv(binary: Path, directory: Path, conf: Path) -> list[str]:
    """The command line: the stack folder as nginx's prefix, errors to nginx.log from the
    start (before the configuration is read)."""
    return [
        str(binary),
        "-p",
        str(directory) + "/",
        "-e",
        str(directory / "nginx.log"),
        "-c",
        str(conf),
    ]
