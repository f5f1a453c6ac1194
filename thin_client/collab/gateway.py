"""The local API gateway: Kong's part of a Supabase project, in front of the real PostgREST.

Paths (Supabase's, ``docs/openapi/collab.yaml``; research: ``supabase-surface.md`` §1, §9):

| path | what |
| --- | --- |
| ``/rest/v1/*`` | needs ``apikey`` (header or ``?apikey=``, one of the stack's keys); ``Authorization: Bearer <apikey>`` when absent; the prefix and the key stripped; proxied to PostgREST, bodies streamed both ways (served by nginx in front, see below) |
| ``/functions/v1/<name>`` | the Edge Functions (``edge_functions/``, one Deno process), JWT verified unless ``verify_jwt = false`` (``collab.gateway_functions``) |
| ``/storage/v1/object/sign/<bucket>/<path>`` | a signed artifact URL redeemed: Storage's token checks, then the bytes with ``Range`` and ``ETag`` (``collab.gateway_storage``) |
| ``/metrics`` | ``api.metrics_prometheus()`` of the caller's workspace as Prometheus text |
| ``/api/metrics/summary`` | ``api.metrics_summary(since, queue)``: the RPC's JSON, status and errors |
| ``/api/metrics/routing`` | ``api.routing_snapshot(service)``: the latest routing snapshot of ``?service=`` |
| ``/dashboard/``, ``/api/events/stream`` | the dashboard and its server-sent event stream (``collab.gateway_dashboard``) |

The gateway holds no logic of Collab: every answer is PostgREST's, under the caller's own key or
JWT (``/metrics`` and ``/api/*`` accept a bare ``Authorization: Bearer`` too, as a Prometheus
scrape sends). Errors of its own have PostgREST's four keys, with the reason in ``details``.
A ``429`` carries ``Retry-After`` from the database itself (``collab.raise_error``), so it holds
on a real Supabase project too. CORS as Supabase: any origin, preflights answered here.

Run by ``collab stack up`` as ``python -m collab.gateway --config gateway.json``, on an internal
port behind nginx (``collab.stack_nginx``), which owns the API port and serves ``/rest/v1``
itself with the rules of :meth:`Gateway.rest` (its refusals are this module's bodies, rendered
into its configuration): about a fifth of this gateway's CPU per request. nginx hands this
gateway every other path, and the ``/rest/v1`` requests it does not serve itself: a query that
names ``apikey`` (stripped and decoded here) and a raw path not literally under ``/rest/v1``.
The upstream client is aiohttp (keep-alive pool to PostgREST) and uvicorn runs on uvloop and
httptools: with httpx as the upstream client the gateway added about 5 ms per request, with
these 1.2 to 2.6. ``/rest/v1`` is served by plain ASGI (:meth:`Gateway.rest`), outside the
router: about a quarter less CPU per request than as a Starlette route (bench/rest_overhead.py,
docs/bench.md).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import aiohttp
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from yarl import URL

from collab.gateway_dashboard import Dashboard, DashboardConfig
from collab.gateway_errors import CORS, UPSTREAM_ERRORS, invalid_api_key, no_api_key, unreachable
from collab.gateway_functions import FunctionsRoutes
from collab.gateway_storage import StorageRoutes

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
# The same as ASGI spells header names (lower-case bytes), for the /rest/v1 fast path.
DROP_UPSTREAM_RAW = frozenset(h.encode() for h in DROP_UPSTREAM | {"authorization"})
DROP_DOWNSTREAM_RAW = frozenset(h.encode() for h in DROP_DOWNSTREAM | {"content-length"})
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class GatewayConfig:
    upstream: str
    anon_key: str
    service_role_key: str
    host: str = "127.0.0.1"
    port: int = 54321
    # Signed URLs and the Edge Functions (issue 14): the project's JWT secret, the Deno runner
    # of edge_functions/ (None: not started) and its config.toml (verify_jwt per function).
    jwt_secret: str | None = None
    functions_upstream: str | None = None
    functions_config: str | None = None
    # Signed URLs' bytes straight from Postgres (collab.gateway_storage): PostgREST's login
    # (authenticator, which may only become anon, authenticated or service_role); None: via
    # PostgREST.
    storage_db_url: str | None = None

    @classmethod
    def load(cls, path: Path) -> GatewayConfig:
        data = json.loads(path.read_text())
        return cls(
            upstream=str(data["upstream"]).rstrip("/"),
            anon_key=str(data["anon_key"]),
            service_role_key=str(data["service_role_key"]),
            host=str(data.get("host", "127.0.0.1")),
            port=int(data.get("port", 54321)),
            jwt_secret=data.get("jwt_secret"),
            functions_upstream=data.get("functions_upstream"),
            functions_config=data.get("functions_config"),
            storage_db_url=data.get("storage_db_url") or None,
        )


def _apikey(request: Request) -> str | None:
    return request.headers.get("apikey") or request.query_params.get("apikey") or None


def _credentials(
    request: Request, cfg: GatewayConfig, bearer_suffices: bool
) -> tuple[dict[str, str], JSONResponse | None]:
    """The Authorization to send upstream, or the 401 to answer (Kong's key-auth)."""
    return _authorize(_apikey(request), request.headers.get("authorization"), cfg, bearer_suffices)


def _authorize(
    key: str | None, authorization: str | None, cfg: GatewayConfig, bearer_suffices: bool
) -> tuple[dict[str, str], JSONResponse | None]:
    """:func:`_credentials` on the values themselves (the /rest/v1 fast path has no Request)."""
    if key is None:
        if bearer_suffices and authorization:
            return {"authorization": authorization}, None
        return {}, no_api_key()
    if key not in (cfg.anon_key, cfg.service_role_key):
        return {}, invalid_api_key()
    return {"authorization": authorization or f"Bearer {key}"}, None


def _take_apikey(query: str) -> tuple[str, str | None]:
    """The query string without its ``apikey`` parameters (PostgREST would read one as an
    argument: PGRST202), exactly as the client encoded the rest, and the first key's value."""
    kept: list[str] = []
    key: str | None = None
    for part in query.split("&"):
        if not part:
            continue
        if part.split("=", 1)[0] == "apikey":
            if key is None:
                key = next((v for _, v in parse_qsl(part, keep_blank_values=True)), "") or None
            continue
        kept.append(part)
    return "&".join(kept), key


REST_PREFIX = "/rest/v1"


def _upstream_path(scope: Scope) -> str:
    """The path under /rest/v1 as the client encoded it (the ASGI ``raw_path``)."""
    raw: bytes | None = scope.get("raw_path")
    if raw is not None and raw.startswith(REST_PREFIX.encode()):
        return raw[len(REST_PREFIX) :].decode("latin-1") or "/"
    return quote(scope["path"][len(REST_PREFIX) :]) or "/"


async def _request_body(receive: Receive, length: int) -> bytes | AsyncIterator[bytes] | None:
    """The request body: bytes when it is at most BUFFERED long (one write upstream, with its
    Content-Length), else a stream of its chunks; None when the client disconnected."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more and (length <= BUFFERED or not chunks) and size <= BUFFERED:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = bool(message.get("more_body", False))
    if not more:
        return b"".join(chunks)

    async def rest_of_body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ConnectionResetError("the client disconnected while sending its body")
            yield message.get("body", b"")
            if not message.get("more_body", False):
                return

    return rest_of_body()


def _downstream_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """An upstream answer's headers to send down (ASGI: lower-case names): not hop-by-hop, no
    Content-Length (the sender sets it), no CORS (ours)."""
    return [
        (k, v)
        for k, v in ((k.lower(), v) for k, v in raw)
        if k not in DROP_DOWNSTREAM_RAW and not k.startswith(b"access-control-")
    ]


# What aiohttp would add by itself: the request goes upstream with the client's headers only.
SKIP_AUTO_HEADERS = ("User-Agent", "Accept-Encoding", "Content-Type", "Accept")
# Answers up to this size are sent down buffered (one write, Content-Length), longer streamed.
BUFFERED = 256 * 1024


@dataclass(frozen=True)
class Answer:
    """A buffered upstream answer (the /metrics and /api/* routes)."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class Gateway:
    def __init__(self, cfg: GatewayConfig, dashboard: DashboardConfig | None = None) -> None:
        self.cfg = cfg
        self.session: aiohttp.ClientSession | None = None
        self.dashboard = Dashboard(self, dashboard or DashboardConfig())
        self.storage = StorageRoutes(self)
        self.edge_functions = FunctionsRoutes(self)

    def http(self) -> aiohttp.ClientSession:
        assert self.session is not None, "the gateway is not started"
        return self.session

    def credentials(
        self, request: Request, bearer_suffices: bool
    ) -> tuple[dict[str, str], JSONResponse | None]:
        """The Authorization to send upstream, or the 401 to answer (for the route modules)."""
        return _credentials(request, self.cfg, bearer_suffices)

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # keep-alive below PostgREST's (Warp's) idle timeout, so a reused connection is open
        connector = aiohttp.TCPConnector(limit=200, keepalive_timeout=15)
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=60),
            auto_decompress=False,
            skip_auto_headers=SKIP_AUTO_HEADERS,
            # a proxy keeps no cookies: one caller's Set-Cookie must never go out with another's
            cookie_jar=aiohttp.DummyCookieJar(),
        ) as session:
            self.session = session
            async with self.dashboard.running(), self.storage.running():
                yield
            self.session = None

    # -- /rest/v1/*: the hot path, plain ASGI ---------------------------------------------
    async def rest(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Kong's key-auth, then the request to PostgREST as it came (the prefix, the key and the
        hop-by-hop headers removed, ``X-Forwarded-For`` added) and its answer back as it came.

        Plain ASGI rather than a Starlette route: no router, no Request or Response objects, one
        pass over the headers each way, and a small body (nearly every RPC's) sent in one write
        each way with its Content-Length. This is what the gateway costs per request
        (bench/rest_overhead.py). Larger bodies stream both ways."""
        key = authorization = None
        length = -1
        headers: list[tuple[str, str]] = []
        for raw_name, raw_value in scope["headers"]:  # ASGI: names are lower-case bytes
            if raw_name in DROP_UPSTREAM_RAW:
                if raw_name == b"authorization" and authorization is None:
                    authorization = raw_value.decode("latin-1")
                elif raw_name == b"apikey" and key is None:
                    key = raw_value.decode("latin-1")
                continue
            if raw_name == b"content-length" and raw_value.isdigit():
                length = int(raw_value)
            headers.append((raw_name.decode("latin-1"), raw_value.decode("latin-1")))
        query = scope["query_string"].decode("latin-1")
        if "apikey" in query:
            query, in_query = _take_apikey(query)
            key = key or in_query
        auth, refused = _authorize(key or None, authorization, self.cfg, bearer_suffices=False)
        if refused is not None:
            await refused(scope, receive, send)
            return
        headers.append(("authorization", auth["authorization"]))
        client = scope.get("client")
        if client:
            headers.append(("x-forwarded-for", str(client[0])))
        path = _upstream_path(scope) + (f"?{query}" if query else "")
        url = URL(self.cfg.upstream + path, encoded=True)  # as the client encoded it
        method = scope["method"]
        body: bytes | AsyncIterator[bytes] | None = None
        if method not in ("GET", "HEAD"):
            body = await _request_body(receive, length)
            if body is None:  # the client went away
                return
        try:
            upstream = await self.http().request(
                method, url, headers=headers, data=body, allow_redirects=False
            )
        except UPSTREAM_ERRORS as exc:
            await unreachable(exc)(scope, receive, send)
            return
        try:
            head: list[bytes] = []
            size = 0
            try:
                while size < BUFFERED and not upstream.content.at_eof():
                    chunk = await upstream.content.readany()
                    head.append(chunk)
                    size += len(chunk)
            except UPSTREAM_ERRORS as exc:
                await unreachable(exc)(scope, receive, send)
                return
            down = _downstream_headers(upstream.raw_headers)
            if upstream.content.at_eof():
                # An answer of at most BUFFERED bytes: one write, with its Content-Length.
                down.append((b"content-length", str(size).encode()))
                start = {"type": "http.response.start", "status": upstream.status, "headers": down}
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(head)})
                return
            await send({"type": "http.response.start", "status": upstream.status, "headers": down})
            for chunk in head:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            async for chunk in upstream.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            upstream.release()

    # -- /functions/v1/<name> --------------------------------------------------------------
    async def functions(self, request: Request) -> Response:
        return await self.edge_functions.invoke(request)  # collab.gateway_functions

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

    async def metrics_routing(self, request: Request) -> Response:
        args = {k: request.query_params[k] for k in ("service",) if k in request.query_params}
        answer = await self._rpc(request, "routing_snapshot", args)
        if isinstance(answer, Response):
            return answer
        return _relay(answer)

    def app(self) -> ASGIApp:
        """/rest/v1 on its plain-ASGI fast path; every other path through Starlette's router
        (add new mounts to ``routes``). Both behind the same CORS middleware."""
        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        routed = Starlette(
            routes=[
                Route("/functions/v1/{path:path}", self.functions, methods=methods),
                Route(
                    "/storage/v1/object/sign/{bucket}/{path:path}",
                    self.storage.redeem,  # collab.gateway_storage
                    methods=["GET", "HEAD"],
                ),
                Route("/metrics", self.metrics, methods=["GET"]),
                Route("/api/metrics/summary", self.metrics_summary, methods=["GET"]),
                Route("/api/metrics/routing", self.metrics_routing, methods=["GET"]),
                *self.dashboard.routes(),  # /dashboard/, /api/events/stream (gateway_dashboard)
            ],
            middleware=[Middleware(CORSMiddleware, **CORS)],
            lifespan=self.lifespan,
        )
        return Prefixes({REST_PREFIX: BrowserCORS(self.rest, **CORS)}, routed)


class BrowserCORS:
    """Starlette's CORS middleware for a request with an ``Origin`` (a browser's); a request
    without one (a server's) only gets the ``Vary: Origin`` that middleware would add, without
    its per-request header objects (the /rest/v1 hot path)."""

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, _ in scope["headers"]:
            if name == b"origin":
                await self.cors(scope, receive, send)
                return

        async def send_varying_on_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"vary"]
                varies = [v for k, v in message.get("headers", []) if k.lower() == b"vary"]
                message["headers"] = [*headers, (b"vary", b", ".join([*varies, b"Origin"]))]
            await send(message)

        await self.app(scope, receive, send_varying_on_origin)


class Prefixes:
    """Paths under one of ``fast``'s prefixes go straight to its ASGI app (no router, no
    per-request objects); everything else, and the lifespan, to ``default``."""

    def __init__(self, fast: Mapping[str, ASGIApp], default: ASGIApp) -> None:
        self.fast: Sequence[tuple[str, str, ASGIApp]] = [
            (prefix, prefix + "/", app) for prefix, app in fast.items()
        ]
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for prefix, under, app in self.fast:
                if path == prefix or path.startswith(under):
                    await app(scope, receive, send)
                    return
        await self.default(scope, receive, send)


def _relay(answer: Answer) -> Response:
    """A buffered upstream answer as it is (status, body, the headers that matter)."""
    keep = {"content-type", "retry-after", "www-authenticate", "content-range"}
    return Response(
        answer.content,
        status_code=answer.status,
        headers={k: v for k, v in answer.headers.items() if k.lower() in keep},
    )


def build_app(cfg: GatewayConfig, dashboard: DashboardConfig | None = None) -> ASGIApp:
    return Gateway(cfg, dashboard).app()


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m collab.gateway", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="gateway.json")
    args = parser.parse_args(argv)
    cfg = GatewayConfig.load(args.config)
    uvicorn.run(
        build_app(cfg, DashboardConfig.load(args.config)),
        host=cfg.host,
        port=cfg.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=True,
        proxy_headers=False,
        # behind the nginx front (collab.stack_nginx), whose idle upstream connections last
        # 60 s: a connection it reuses must still be open here
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
