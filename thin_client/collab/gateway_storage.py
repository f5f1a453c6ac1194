"""``/storage/v1/object/sign/<bucket>/<path>?token=…``: signed artifact URLs, redeemed.

The URL and its token are Supabase Storage's (research: ``supabase-surface.md`` §10;
``docs/artifacts.md``): ``api.sign_artifact`` mints an HS256 JWT ``{url, scope: "download",
iat, exp}`` with the project's JWT secret. This route checks it as Storage's
``getSignedObject`` does (signature, scope, ``url`` equal to ``<bucket>/<path>``, expiry)
with the same secret, then fetches the bytes (``api.download_artifact``, which checks the
token again, under the service role): straight from Postgres over a small pool when the
gateway has ``storage_db_url`` (PostgREST's own login, set by ``collab stack``), else through
PostgREST with the service key. Through PostgREST a redemption cost about twice the CPU of
serving the same bytes from a file, most of it in the extra HTTP hop (bench/artifacts.py,
docs/bench.md). It answers with ``Content-Type``,
``Content-Length``, ``ETag`` (the sha256), ``Accept-Ranges`` and one ``Range`` (206 with
``Content-Range``; 416 past the end); ``If-None-Match`` gets 304. Refusals carry Storage's
error body ``{"statusCode", "error", "message"}``: 400 ``InvalidJWT`` (bad signature,
malformed, expired, not a download token), 400 ``InvalidSignature`` (the token of another
path), 400 ``MissingParameter`` (no token), 404 ``not_found`` (no such object).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
import jwt
import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse


class Settings(Protocol):
    """What this route reads of the gateway's configuration (``GatewayConfig``)."""

    @property
    def upstream(self) -> str: ...

    @property
    def service_role_key(self) -> str: ...

    @property
    def jwt_secret(self) -> str | None: ...

    @property
    def storage_db_url(self) -> str | None: ...


class Host(Protocol):
    """What this route needs of the gateway (``collab.gateway.Gateway``)."""

    @property
    def cfg(self) -> Settings: ...

    def http(self) -> aiohttp.ClientSession: ...


UPSTREAM_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
# Answers up to this size are read whole and sent with one write; longer ones are streamed.
BUFFERED = 1024 * 1024
MAX_AGE = 3600  # Storage's default Cache-Control, capped by what is left of the token
# Connections of the direct path: a few suffice, a redemption holds one for one short call.
POOL_SIZE = 4
# ``offset 0`` keeps the call in a subquery evaluated first, so the response headers it sets
# are read after it.
DOWNLOAD_SQL = (
    "select d.bytes, pg_catalog.current_setting('response.headers', true)"
    " from (select api.download_artifact(%s, %s, %s, %s)::bytea as bytes offset 0) d"
)


def storage_error(status: int, error: str, message: str) -> JSONResponse:
    """Supabase Storage's error body (``src/internal/errors``)."""
    return JSONResponse(
        {"statusCode": str(status), "error": error, "message": message}, status_code=status
    )


def parse_range(header: str | None) -> tuple[int | None, int | None] | None:
    """One ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` range; None for none or any other form
    (several ranges, other units: RFC 9110 lets a server ignore them and send everything)."""
    if not header:
        return None
    found = RANGE.match(header)
    if found is None or (found.group(1) == "" and found.group(2) == ""):
        return None
    start = int(found.group(1)) if found.group(1) else None
    end = int(found.group(2)) if found.group(2) else None
    if start is not None and end is not None and end < start:
        return None
    return start, end


def check_token(
    token: str | None, url: str, secret: str
) -> tuple[dict[str, Any] | None, Response | None]:
    """The token's claims, or Storage's refusal."""
    if not token:
        return None, storage_error(400, "MissingParameter", "Missing token")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp"], "verify_aud": False}
        )
    except jwt.ExpiredSignatureError:
        return None, storage_error(400, "InvalidJWT", "jwt expired")
    except jwt.InvalidTokenError as exc:
        return None, storage_error(400, "InvalidJWT", str(exc) or "invalid token")
    if claims.get("scope", "download") != "download" or "upsert" in claims:
        return None, storage_error(400, "InvalidJWT", "the token is not a download token")
    if claims.get("url") != url:
        return None, storage_error(400, "InvalidSignature", "The url do not match the signature")
    return claims, None


@dataclass
class Fetched:
    """What the database answered for a redemption: the object's size, media type and sha256,
    the inclusive byte range served, its first bytes and, when longer, the rest as a stream
    (``release`` frees what holds it when the answer is not sent)."""

    size: int
    media_type: str
    sha256: str
    first: int
    last: int
    head: bytes
    rest: AsyncIterator[bytes] | None = None
    release: Callable[[], Any] | None = None


class StorageRoutes:
    """The signed-URL route of the gateway (mounted by :class:`collab.gateway.Gateway`).

    With ``storage_db_url`` (``collab stack`` sets it: PostgREST's own login, ``authenticator``)
    the bytes come straight from Postgres over a small pool of connections that act as
    ``service_role`` (as PostgREST's would for the service key), in slices of at most ``BUFFERED`` bytes (a large
    object is streamed, one slice in memory at a time); without it, through PostgREST with the
    service key. Either way ``api.download_artifact`` checks the token again and decides."""

    def __init__(self, gateway: Host) -> None:
        self.gateway = gateway
        self.pool: AsyncConnectionPool[Any] | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The database pool for the lifetime of the gateway (none without storage_db_url)."""
        dsn = self.gateway.cfg.storage_db_url
        if not dsn:
            yield
            return
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            dsn,
            min_size=1,
            max_size=POOL_SIZE,
            open=False,
            timeout=30,
            kwargs={"application_name": "collab-gateway-storage", "autocommit": True},
            configure=_as_service_role,
        )
        await pool.open(wait=False)
        self.pool = pool
        try:
            yield
        finally:
            self.pool = None
            await pool.close()

    async def redeem(self, request: Request) -> Response:
        cfg = self.gateway.cfg
        if not cfg.jwt_secret:
            return storage_error(
                500, "InternalError", "the gateway has no JWT secret to check tokens"
            )
        url = f"{request.path_params['bucket']}/{request.path_params['path']}"
        token = request.query_params.get("token")
        claims, refused = check_token(token, url, cfg.jwt_secret)
        if refused is not None:
            return refused
        assert claims is not None and token is not None
        wanted = parse_range(request.headers.get("range"))
        method = "HEAD" if request.method == "HEAD" else "GET"
        if self.pool is not None:
            got = await self._from_database(self.pool, url, token, wanted)
        else:
            got = await self._from_postgrest(url, token, wanted, method)
        if isinstance(got, Response):
            return got
        etag = f'"{got.sha256}"'
        left = max(int(claims["exp"]) - int(time.time()), 0)
        down = {
            "content-type": got.media_type,
            "etag": etag,
            "accept-ranges": "bytes",
            "cache-control": f"private, max-age={min(MAX_AGE, left)}",
            "last-modified": formatdate(usegmt=True),
        }
        if "download" in request.query_params:
            filename = request.query_params["download"] or url.rsplit("/", 1)[-1]
            down["content-disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        status = 200
        if wanted is not None:
            status = 206
            down["content-range"] = f"bytes {got.first}-{got.last}/{got.size}"
        not_modified = etag in _tags(request.headers.get("if-none-match"))
        if (not_modified or method == "HEAD") and got.release is not None:
            await got.release()
        if not_modified:
            return Response(
                status_code=304, headers={k: down[k] for k in ("etag", "cache-control")}
            )
        down["content-length"] = str(got.last - got.first + 1)
        if got.rest is None or method == "HEAD":
            response = Response(b"" if method == "HEAD" else got.head, status_code=status)
            response.raw_headers = _raw(down)
            return response
        rest = got.rest
        head = got.head

        async def stream() -> AsyncIterator[bytes]:
            if head:
                yield head
            async for chunk in rest:
                yield chunk

        release = BackgroundTask(got.release) if got.release is not None else None
        streamed = StreamingResponse(stream(), status_code=status, background=release)
        streamed.raw_headers = _raw(down)
        return streamed

    # -- the bytes straight from Postgres -----------------------------------------------------
    async def _slice(
        self,
        pool: AsyncConnectionPool[Any],
        url: str,
        token: str,
        first: int | None,
        last: int | None,
    ) -> tuple[bytes, dict[str, str]]:
        async with pool.connection() as conn:
            cur = conn.cursor(binary=True)
            await cur.execute(DOWNLOAD_SQL, [url, token, first, last])
            row = await cur.fetchone()
        assert row is not None
        headers: dict[str, str] = {}
        for entry in json.loads(row[1] or "[]"):
            headers.update(entry)
        return bytes(row[0] or b""), headers

    async def _from_database(
        self,
        pool: AsyncConnectionPool[Any],
        url: str,
        token: str,
        wanted: tuple[int | None, int | None] | None,
    ) -> Fetched | Response:
        # The first slice: what was asked, capped to BUFFERED bytes when its start is known
        # (a suffix range, bytes=-n, is read whole: it is at most n bytes).
        if wanted is None:
            first: int | None = 0
            last: int | None = BUFFERED - 1
        else:
            first, last = wanted
            if first is not None:
                last = first + BUFFERED - 1 if last is None else min(last, first + BUFFERED - 1)
        try:
            try:
                head, meta = await self._slice(pool, url, token, first, last)
            except psycopg.Error as exc:
                if wanted is None and exc.sqlstate == "PT416":  # an empty object
                    head, meta = await self._slice(pool, url, token, None, None)
                else:
                    raise
        except psycopg.Error as exc:
            return _database_refusal(exc)
        except (PoolTimeout, OSError) as exc:
            return storage_error(502, "upstream_unavailable", f"Postgres did not answer: {exc!r}")
        size = int(meta.get("X-Artifact-Size", "0"))
        got_first, _, got_last = meta.get("X-Artifact-Range", "0--1").partition("-")
        start, end = int(got_first), int(got_last)
        if wanted is not None and wanted[0] is not None:
            target = size - 1 if wanted[1] is None else min(wanted[1], size - 1)
        elif wanted is None:
            target = size - 1
        else:
            target = end
        fetched = Fetched(
            size=size,
            media_type=meta.get("X-Artifact-Type", "application/octet-stream"),
            sha256=meta.get("X-Artifact-Sha256", ""),
            first=start,
            last=target,
            head=head,
        )
        if end < target:

            async def rest() -> AsyncIterator[bytes]:
                at = end + 1
                while at <= target:
                    upto = min(at + BUFFERED - 1, target)
                    # each slice checks the token again: a deleted object stops the stream
                    chunk, _ = await self._slice(pool, url, token, at, upto)
                    if not chunk:
                        raise ConnectionResetError("the object changed while it was sent")
                    yield chunk
                    at += len(chunk)

            fetched.rest = rest()
        return fetched

    # -- the bytes through PostgREST --------------------------------------------------------
    async def _from_postgrest(
        self,
        url: str,
        token: str,
        wanted: tuple[int | None, int | None] | None,
        method: str,
    ) -> Fetched | Response:
        cfg = self.gateway.cfg
        args = {"path": url, "token": token}
        if wanted is not None:
            if wanted[0] is not None:
                args["range_start"] = str(wanted[0])
            if wanted[1] is not None:
                args["range_end"] = str(wanted[1])
        headers = {
            "authorization": f"Bearer {cfg.service_role_key}",
            "accept": "application/octet-stream",
            "accept-profile": "api",
        }
        try:
            upstream = await self.gateway.http().request(
                method, f"{cfg.upstream}/rpc/download_artifact", params=args, headers=headers
            )
        except UPSTREAM_ERRORS as exc:
            return storage_error(502, "upstream_unavailable", f"PostgREST did not answer: {exc!r}")
        if upstream.status != 200:
            body = await upstream.read()
            upstream.release()
            return _refusal(upstream.status, body)
        first, _, last = upstream.headers.get("X-Artifact-Range", "0--1").partition("-")
        fetched = Fetched(
            size=int(upstream.headers.get("X-Artifact-Size", "0")),
            media_type=upstream.headers.get("X-Artifact-Type", "application/octet-stream"),
            sha256=upstream.headers.get("X-Artifact-Sha256", ""),
            first=int(first),
            last=int(last),
            head=b"",
        )
        if method == "HEAD" or fetched.last - fetched.first + 1 <= BUFFERED:
            fetched.head = b"" if method == "HEAD" else await upstream.read()
            upstream.release()
            return fetched

        async def rest() -> AsyncIterator[bytes]:
            async for chunk in upstream.content.iter_chunked(256 * 1024):
                yield chunk

        async def release() -> None:
            upstream.release()

        fetched.rest = rest()
        fetched.release = release
        return fetched


async def _as_service_role(conn: psycopg.AsyncConnection[Any]) -> None:
    """A pool connection acts as the service role for good (one statement per redemption, in
    autocommit): it only ever runs ``api.download_artifact``."""
    await conn.execute("set role service_role")


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode("latin-1")) for k, v in headers.items()]


def _database_refusal(exc: psycopg.Error) -> Response:
    """``api.download_artifact``'s error (SQLSTATE PTxxx, the reason in DETAIL) as PostgREST
    would have answered it, then as Storage's body (:func:`_refusal`)."""
    state = exc.sqlstate or ""
    status = int(state[2:]) if state.startswith("PT") and state[2:].isdigit() else 500
    body = json.dumps(
        {"message": exc.diag.message_primary or str(exc), "details": exc.diag.message_detail}
    )
    return _refusal(status, body.encode())


def _tags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {t.strip().removeprefix("W/") for t in header.split(",")}


def _refusal(status: int, body: bytes) -> Response:
    """PostgREST's error as Storage's body (404 not_found, 400 InvalidJWT, 416 with
    ``Content-Range: bytes */size``)."""
    try:
        error = json.loads(body)
        details = json.loads(error.get("details") or "{}")
    except (ValueError, TypeError, AttributeError):
        error, details = {}, {}
    reason = details.get("reason") if isinstance(details, dict) else None
    message = str(error.get("message", "")) if isinstance(error, dict) else ""
    if reason == "artifact_not_found":
        return storage_error(404, "not_found", "Object not found")
    if reason == "invalid_token":
        return storage_error(400, str(details.get("error", "InvalidJWT")), message)
    if reason == "range_not_satisfiable":
        refused = storage_error(416, "InvalidRange", message)
        refused.headers["content-range"] = f"bytes */{details.get('size', 0)}"
        return refused
    return storage_error(status, str(reason or "InternalError"), message or "the download failed")
