"""The local API gateway: Kong's part of a Supabase project, in front of the real PostgREST.

Paths (Supabase's, ``docs/openapi/collab.yaml``; research: ``supabase-surface.md`` §1, §9):

| path | what |
| --- | --- |
| ``/rest/v1/*`` | needs ``apikey`` (header or ``?apikey=``, one of the stack's keys); ``Authorization: Bearer <apikey>`` when absent; the prefix and the key stripped; proxied to PostgREST, bodies streamed both ways |
| ``/functions/v1/<name>`` | reserved for the Edge Functions: 501 for now |
| ``/metrics`` | ``api.metrics_prometheus()`` of the caller's workspace as Prometheus text |
| ``/api/metrics/summary`` | ``api.metrics_summary(since, queue)``: the RPC's JSON, status and errors |

The gateway holds no logic of Collab: every answer is PostgREST's, under the caller's own key or
JWT (``/metrics`` and ``/api/*`` accept a bare ``Authorization: Bearer`` too, as a Prometheus
scrape sends). Errors of its own have PostgREST's four keys, with the reason in ``details``.
A ``429`` carries ``Retry-After`` from the database itself (``collab.raise_error``), so it holds
on a real Supabase project too. CORS as Supabase: any origin, preflights answered here.

Run by ``collab stack up`` as ``python -m collab.gateway --config gateway.json``. The upstream
client is aiohttp (keep-alive pool to PostgREST) and uvicorn runs on uvloop and httptools: with
httpx as the upstream client the gateway added about 5 ms per request, with these about 1
(bench/rest_overhead.py, docs/bench.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from yarl import URL

# Hop-by-hop headers (RFC 9110 §7.6.1) and what the proxy sets itself.
HOP_BY_HOP = frozenset(
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
    }
)
# Kong's key-auth with hide_credentials: the key never reaches PostgREST; CORS is ours.
DROP_UPSTREAM = HOP_BY_HOP | {"apikey", "origin"}
DROP_DOWNSTREAM = HOP_BY_HOP | {"server", "date"}
CORS_EXPOSE = [
    "Content-Range",
    "Content-Type",
    "Location",
    "Range-Unit",
    "Retry-After",
    "Preference-Applied",
    "Content-Profile",
]
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class GatewayConfig:
    upstream: str
    anon_key: str
    service_role_key: str
    host: str = "127.0.0.1"
    port: int = 54321

    @classmethod
    def load(cls, path: Path) -> GatewayConfig:
        data = json.loads(path.read_text())
        return cls(
            upstream=str(data["upstream"]).rstrip("/"),
            anon_key=str(data["anon_key"]),
            service_role_key=str(data["service_role_key"]),
            host=str(data.get("host", "127.0.0.1")),
            port=int(data.get("port", 54321)),
        )


def error(status: int, reason: str, message: str, hint: str | None = None) -> JSONResponse:
    """An error of the gateway itself, shaped as PostgREST's (supabase-py needs all four keys)."""
    return JSONResponse(
        {
            "code": f"PT{status}",
            "message": message,
            "details": json.dumps({"reason": reason}),
            "hint": hint,
        },
        status_code=status,
    )


def unreachable(exc: Exception) -> JSONResponse:
    """PostgREST did not answer (Kong's 502)."""
    return error(
        502,
        "upstream_unavailable",
        f"PostgREST did not answer: {type(exc).__name__}",
        "see .collab/stack/postgrest.log; `collab stack up` starts it again",
    )


def _apikey(request: Request) -> str | None:
    return request.headers.get("apikey") or request.query_params.get("apikey") or None


def _credentials(
    request: Request, cfg: GatewayConfig, bearer_suffices: bool
) -> tuple[dict[str, str], JSONResponse | None]:
    """The Authorization to send upstream, or the 401 to answer (Kong's key-auth)."""
    key = _apikey(request)
    authorization = request.headers.get("authorization")
    if key is None:
        if bearer_suffices and authorization:
            return {"authorization": authorization}, None
        return {}, error(
            401,
            "no_api_key",
            "No API key found in request",
            "send the project's anon or service_role key in the apikey header (or ?apikey=)",
        )
    if key not in (cfg.anon_key, cfg.service_role_key):
        return {}, error(
            401,
            "invalid_api_key",
            "Invalid API key",
            "use the anon or service_role key that `collab stack status` prints",
        )
    return {"authorization": authorization or f"Bearer {key}"}, None


def _query_without_key(request: Request) -> str:
    pairs = [
        part for part in request.url.query.split("&") if part and part.split("=", 1)[0] != "apikey"
    ]
    return "&".join(pairs)


def _downstream_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [
        (k, v)
        for k, v in raw
        if k.decode("latin-1").lower() not in DROP_DOWNSTREAM
        and not k.decode("latin-1").lower().startswith("access-control-")
    ]


# What aiohttp would add by itself: the request goes upstream with the client's headers only.
SKIP_AUTO_HEADERS = ("User-Agent", "Accept-Encoding", "Content-Type", "Accept")
# Answers up to this size are sent down buffered (one write, Content-Length), longer streamed.
BUFFERED = 256 * 1024
# Transport failures of the upstream call (PostgREST down, reset, timed out).
UPSTREAM_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


@dataclass(frozen=True)
class Answer:
    """A buffered upstream answer (the /metrics and /api/* routes)."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class Gateway:
    def __init__(self, cfg: GatewayConfig) -> None:
        self.cfg = cfg
        self.session: aiohttp.ClientSession | None = None

    def http(self) -> aiohttp.ClientSession:
        assert self.session is not None, "the gateway is not started"
        return self.session

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # keep-alive below PostgREST's (Warp's) idle timeout, so a reused connection is open
        connector = aiohttp.TCPConnector(limit=200, keepalive_timeout=15)
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=60),
            auto_decompress=False,
            skip_auto_headers=SKIP_AUTO_HEADERS,
        ) as session:
            self.session = session
            yield
            self.session = None

    # -- /rest/v1/* ----------------------------------------------------------------------
    async def rest(self, request: Request) -> Response:
        auth, refused = _credentials(request, self.cfg, bearer_suffices=False)
        if refused is not None:
            return refused
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in DROP_UPSTREAM and k.lower() != "authorization"
        ]
        headers.append(("authorization", auth["authorization"]))
        client_host = request.client.host if request.client else ""
        if client_host:
            headers.append(("x-forwarded-for", client_host))
        path = "/" + request.path_params.get("path", "")
        query = _query_without_key(request)
        # the query exactly as the client sent it (PostgREST's filters), not re-encoded
        url = URL(self.cfg.upstream + path + (f"?{query}" if query else ""), encoded=True)
        try:
            upstream = await self.http().request(
                request.method,
                url,
                headers=headers,
                data=request.stream() if request.method not in ("GET", "HEAD") else None,
                allow_redirects=False,
            )
        except UPSTREAM_ERRORS as exc:
            return unreachable(exc)
        # An answer that fits in BUFFERED bytes (nearly every RPC's) goes down in one write with
        # a Content-Length; a longer one is streamed as it comes.
        head: list[bytes] = []
        size = 0
        try:
            while size < BUFFERED and not upstream.content.at_eof():
                chunk = await upstream.content.readany()
                head.append(chunk)
                size += len(chunk)
        except UPSTREAM_ERRORS as exc:
            upstream.release()
            return unreachable(exc)
        headers_down = _downstream_headers(upstream.raw_headers)
        if upstream.content.at_eof():
            upstream.release()
            buffered = Response(b"".join(head), status_code=upstream.status)
            buffered.raw_headers = [
                (k, v) for k, v in headers_down if k.lower() != b"content-length"
            ] + [(b"content-length", str(size).encode())]
            return buffered

        async def rest_of_body() -> AsyncIterator[bytes]:
            for chunk in head:
                yield chunk
            async for chunk in upstream.content.iter_any():
                yield chunk

        response = StreamingResponse(
            rest_of_body(),
            status_code=upstream.status,
            background=BackgroundTask(upstream.release),
        )
        response.raw_headers = headers_down
        return response

    # -- /functions/v1/<name> --------------------------------------------------------------
    async def functions(self, request: Request) -> Response:
        name = request.path_params.get("path", "").split("/", 1)[0]
        if not name:
            return error(400, "missing_function_name", "missing function name in request")
        return error(
            501,
            "not_implemented",
            f"Edge Function {name!r} is not served by this stack yet",
            "the Edge Functions runner comes with the Edge Functions issue; call /rest/v1/rpc/<fn>",
        )

    # -- /metrics and /api/metrics/summary -------------------------------------------------
    async def _rpc(self, request: Request, name: str, args: dict[str, Any]) -> Answer | Response:
        auth, refused = _credentials(request, self.cfg, bearer_suffices=True)
        if refused is not None:
            return refused
        headers = {
            **auth,
            "content-profile": "api",
            "accept": "application/json",
            "content-type": "application/json",
        }
        try:
            async with self.http().post(
                f"{self.cfg.upstream}/rpc/{name}", data=json.dumps(args), headers=headers
            ) as answer:
                return Answer(answer.status, dict(answer.headers), await answer.read())
        except UPSTREAM_ERRORS as exc:
            return unreachable(exc)

    async def metrics(self, request: Request) -> Response:
        answer = await self._rpc(request, "metrics_prometheus", {})
        if isinstance(answer, Response):
            return answer
        if answer.status != 200:
            return _relay(answer)
        return Response(str(answer.json()), media_type=PROMETHEUS_TYPE)

    async def metrics_summary(self, request: Request) -> Response:
        args = {k: request.query_params[k] for k in ("since", "queue") if k in request.query_params}
        answer = await self._rpc(request, "metrics_summary", args)
        if isinstance(answer, Response):
            return answer
        return _relay(answer)

    def app(self) -> Starlette:
        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        return Starlette(
            routes=[
                Route("/rest/v1/{path:path}", self.rest, methods=methods),
                Route("/rest/v1", self.rest, methods=methods),
                Route("/functions/v1/{path:path}", self.functions, methods=methods),
                Route("/metrics", self.metrics, methods=["GET"]),
                Route("/api/metrics/summary", self.metrics_summary, methods=["GET"]),
            ],
            middleware=[
                Middleware(
                    CORSMiddleware,
                    allow_origins=["*"],
                    allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
                    allow_headers=["*"],
                    expose_headers=CORS_EXPOSE,
                    max_age=86400,
                )
            ],
            lifespan=self.lifespan,
        )


def _relay(answer: Answer) -> Response:
    """A buffered upstream answer as it is (status, body, the headers that matter)."""
    keep = {"content-type", "retry-after", "www-authenticate", "content-range"}
    return Response(
        answer.content,
        status_code=answer.status,
        headers={k: v for k, v in answer.headers.items() if k.lower() in keep},
    )


def build_app(cfg: GatewayConfig) -> Starlette:
    return Gateway(cfg).app()


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m collab.gateway", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="gateway.json")
    args = parser.parse_args(argv)
    cfg = GatewayConfig.load(args.config)
    uvicorn.run(
        build_app(cfg),
        host=cfg.host,
        port=cfg.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=True,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
