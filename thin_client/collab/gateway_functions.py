"""``/functions/v1/<name>[/…]``: the Edge Functions (``edge_functions/``), as Supabase serves them.

One Deno process (``edge_functions/_main/index.ts``, started by ``collab stack up``) serves
every function, routing by the first path segment as Supabase's self-hosted ``main`` router
does; this route is Kong's part in front of it (research: ``supabase-surface.md`` §9):

* the JWT in ``Authorization: Bearer`` is verified (HS256, the project's secret, not expired)
  unless ``edge_functions/config.toml`` says ``verify_jwt = false`` for the function, and
  never for a CORS preflight (``OPTIONS``). Refused: 401
  ``{"code": "UNAUTHORIZED_NO_AUTH_HEADER" | "UNAUTHORIZED_INVALID_JWT_FORMAT", "message", "msg"}``
  with the header ``sb-error-code``;
* an empty name is 400 ``{"msg": "missing function name in request"}``; a name that is not a
  folder of ``edge_functions/`` is 404 ``{"code": "NOT_FOUND", …}``;
* the request goes on with ``/functions/v1`` stripped (the function sees ``/<name>/…``), every
  header kept (the function forwards the caller's ``Authorization`` to PostgREST).
"""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
from pathlib import Path
from typing import Protocol

import aiohttp
import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from yarl import URL

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
UPSTREAM_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
# Hop-by-hop headers (RFC 9110 §7.6.1), what the proxy sets itself, and the API key (Kong's
# hide_credentials); CORS headers are the gateway's middleware's.
DROP_UP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "origin",
        "content-length",
    }
)
DROP_DOWN = DROP_UP | {"server", "date"}


class Settings(Protocol):
    """What this route reads of the gateway's configuration (``GatewayConfig``)."""

    @property
    def jwt_secret(self) -> str | None: ...

    @property
    def functions_upstream(self) -> str | None: ...

    @property
    def functions_config(self) -> str | None: ...


class Host(Protocol):
    """What this route needs of the gateway (``collab.gateway.Gateway``)."""

    @property
    def cfg(self) -> Settings: ...

    def http(self) -> aiohttp.ClientSession: ...


def error(status: int, reason: str, message: str, hint: str | None = None) -> JSONResponse:
    """The gateway's own error shape (PostgREST's four keys, the reason in details)."""
    return JSONResponse(
        {
            "code": f"PT{status}",
            "message": message,
            "details": json.dumps({"reason": reason}),
            "hint": hint,
        },
        status_code=status,
    )


def functions_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "edge_functions"


def load_settings(config: Path | None) -> dict[str, bool]:
    """``{name: verify_jwt}`` for every function folder (``_`` folders are not functions),
    from ``[functions.<name>] verify_jwt`` of config.toml (default true, as Supabase)."""
    root = config.parent if config is not None else functions_dir()
    data: dict[str, object] = {}
    if config is not None and config.is_file():
        data = tomllib.loads(config.read_text())
    table = data.get("functions", {})
    settings: dict[str, bool] = {}
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("_") and (folder / "index.ts").is_file():
            own = table.get(folder.name, {}) if isinstance(table, dict) else {}
            settings[folder.name] = (
                bool(own.get("verify_jwt", True)) if isinstance(own, dict) else True
            )
    return settings


def unauthorized(code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message, "msg": message},
        status_code=401,
        headers={"sb-error-code": code},
    )


class FunctionsRoutes:
    """The Edge Functions route of the gateway (mounted by :class:`collab.gateway.Gateway`)."""

    def __init__(self, gateway: Host) -> None:
        self.gateway = gateway
        cfg = gateway.cfg
        self.settings = load_settings(Path(cfg.functions_config) if cfg.functions_config else None)

    def _verify(self, request: Request) -> Response | None:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return unauthorized("UNAUTHORIZED_NO_AUTH_HEADER", "Missing authorization header")
        secret = self.gateway.cfg.jwt_secret
        if not secret:
            return unauthorized("UNAUTHORIZED_INVALID_JWT_FORMAT", "the gateway has no JWT secret")
        try:
            jwt.decode(token.strip(), secret, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.InvalidTokenError as exc:
            return unauthorized("UNAUTHORIZED_INVALID_JWT_FORMAT", f"Invalid JWT: {exc}")
        return None

    async def invoke(self, request: Request) -> Response:
        path = request.path_params.get("path", "")
        name = path.split("/", 1)[0]
        if not name:
            return JSONResponse({"msg": "missing function name in request"}, status_code=400)
        if not NAME.match(name) or name not in self.settings:
            return JSONResponse(
                {"code": "NOT_FOUND", "message": "Requested function was not found"},
                status_code=404,
            )
        upstream_base = self.gateway.cfg.functions_upstream
        if not upstream_base:
            return error(
                503,
                "functions_unavailable",
                "this stack serves no Edge Functions: Deno was not found when it started",
                "run `make setup` (it installs Deno), then `collab stack down` and `collab stack up`",
            )
        if request.method != "OPTIONS" and self.settings[name]:
            refused = self._verify(request)
            if refused is not None:
                return refused
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in DROP_UP]
        query = request.url.query
        url = URL(
            upstream_base.rstrip("/") + "/" + path + (f"?{query}" if query else ""), encoded=True
        )
        try:
            async with self.gateway.http().request(
                request.method,
                url,
                headers=headers,
                data=await request.body() if request.method not in ("GET", "HEAD") else None,
                allow_redirects=False,
            ) as answer:
                content = await answer.read()
                response = Response(content, status_code=answer.status)
                # CORS headers are the gateway's middleware's (as Kong's), not the function's
                response.raw_headers = [
                    (k, v)
                    for k, v in answer.raw_headers
                    if k.decode("latin-1").lower() not in DROP_DOWN
                    and not k.lower().startswith(b"access-control-")
                ] + [(b"content-length", str(len(content)).encode())]
                return response
        except UPSTREAM_ERRORS as exc:
            return error(
                502,
                "functions_unavailable",
                f"the Edge Functions runner did not answer: {type(exc).__name__}",
                "see .collab/stack/functions.log; `collab stack up` starts it again",
            )
