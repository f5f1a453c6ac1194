"""The dashboard's routes on the gateway (docs/dashboard.md, docs/realtime.md):

| path | what |
| --- | --- |
| ``/dashboard/`` | the built dashboard (``dashboard/dist``, built by ``make setup``), static files |
| ``/dashboard/config.json`` | what the page needs to start: the mode (``local``), the anon key, whether dev sign-in is on |
| ``/api/events/stream`` | the caller's event stream as server-sent events (below) |
| ``/api/dashboard/dev/identities`` | local stack only: the workspaces and their members to sign in as |
| ``/api/dashboard/dev/token`` | local stack only: a minted JWT for one of them (POST) |

**The event stream.** ``GET /api/events/stream`` with the caller's ``Authorization: Bearer``
(and the ``apikey``, or the bearer alone as for ``/metrics``). It follows ``api.events_since``
through PostgREST under the caller's own JWT, so the database decides what they see, from the
cursor in ``Last-Event-ID`` (a reconnect), else ``?cursor=``, else ``api.events_head()`` (the
live end). Each message is one page of events: ``id: <cursor of its last event>``, ``event:
events``, ``data: [api.event, ...]``; the first message, ``event: ready``, carries the cursor
it starts from as its id, with the caller's workspace and role. A client that reconnects with
the last id it got misses nothing and gets nothing twice. Between reads the stream sleeps on
``LISTEN "collab_events:<workspace>"`` (the caller's channel, from ``api.whoami``) on one
connection shared by every stream of the gateway, with a poll every ``poll_seconds`` as the
fallback (a wake-up is a hint; the table is the truth), and reads again every 60 ms for
250 ms after activity (the notify window of ``collab.notify_events``). A refused read (an
expired cursor ``410``, an expired token ``401``) ends the stream with ``event: stream-error``
and PostgREST's error body; ``: ping`` comments keep an idle stream open.

**Dev sign-in** exists only when ``collab stack up`` wrote ``dev_jwt_secret`` into
gateway.json (a local stack, never a Supabase project) and answers loopback clients only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import psycopg
from psycopg import sql
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from collab import queries
from collab.gateway_errors import UPSTREAM_ERRORS, error


class Gateway(Protocol):
    """What the dashboard's routes use of collab.gateway.Gateway (no import: no cycle)."""

    cfg: Any

    def http(self) -> aiohttp.ClientSession: ...

    def credentials(
        self, request: Request, bearer_suffices: bool
    ) -> tuple[dict[str, str], JSONResponse | None]: ...


DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "dashboard" / "dist"
PAGE = 1000  # events per message (api.events_since's limit)
HOT_SECONDS = 0.25  # after activity, read again every HOT_READ_SECONDS for this long
HOT_READ_SECONDS = 0.06
PING_SECONDS = 15.0
DEV_TOKEN_SECONDS = 3600
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
# The dev sign-in's list of whom to sign in as (a local stack's own database, read as its
# owner, as Supabase Studio lists a project's users): not a call of the api, and never made
# on a Supabase project. Everything the signed-in page does goes through the api.
DEV_IDENTITIES = """
select w.id, w.name, m.user_id, m.role
  from collab.workspaces w left join collab.members m on m.workspace_id = w.id
 order by w.name, collab.role_rank(m.role) desc, m.user_id
 limit 500
"""
UNLISTEN_CHANNEL = "unlisten {}"


@dataclass(frozen=True)
class DashboardConfig:
    """The dashboard's part of gateway.json (every key optional)."""

    directory: Path = DEFAULT_DIRECTORY
    db_url: str | None = None  # LISTEN wake-ups and the dev identities; without it: polling
    dev_jwt_secret: str | None = None  # dev sign-in (a local stack only)
    poll_seconds: float = 2.0

    @classmethod
    def load(cls, path: Path) -> DashboardConfig:
        data = json.loads(path.read_text())
        return cls(
            directory=Path(data.get("dashboard_dir") or DEFAULT_DIRECTORY),
            db_url=data.get("db_url") or None,
            dev_jwt_secret=data.get("dev_jwt_secret") or None,
            poll_seconds=float(data.get("events_poll_seconds", 2.0)),
        )


class Listener:
    """One LISTEN connection for every stream of the gateway: channels are listened to while a
    stream wants them, and each notification wakes that channel's streams. When the
    connection drops it reconnects with backoff and wakes every stream (they read again)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.waiters: dict[str, set[asyncio.Event]] = {}
        self.listening: set[str] = set()
        self.ready: dict[str, asyncio.Event] = {}
        self.task: asyncio.Task[None] | None = None

    def subscribe(self, channel: str) -> asyncio.Event:
        woken = asyncio.Event()
        self.waiters.setdefault(channel, set()).add(woken)
        self.ready.setdefault(channel, asyncio.Event())
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.run())
        return woken

    def unsubscribe(self, channel: str, woken: asyncio.Event) -> None:
        waiters = self.waiters.get(channel)
        if waiters is not None:
            waiters.discard(woken)
            if not waiters:
                del self.waiters[channel]

    async def listening_to(self, channel: str, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready[channel].wait(), timeout)
        return channel in self.listening

    def _wake_all(self) -> None:
        for waiters in self.waiters.values():
            for woken in waiters:
                woken.set()

    async def _sync(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """LISTEN to the channels wanted now, UNLISTEN the others."""
        wanted = set(self.waiters)
        for channel in sorted(wanted - self.listening):
            await conn.execute(sql.SQL(queries.LISTEN_CHANNEL).format(sql.Identifier(channel)))
            self.listening.add(channel)
            self.ready.setdefault(channel, asyncio.Event()).set()
        for channel in sorted(self.listening - wanted):
            await conn.execute(sql.SQL(UNLISTEN_CHANNEL).format(sql.Identifier(channel)))
            self.listening.discard(channel)
            self.ready.pop(channel, None)

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.dsn, autocommit=True, application_name="collab-gateway-events"
                ) as conn:
                    failures = 0
                    while True:
                        await self._sync(conn)
                        # short windows: LISTEN for a new stream waits at most one of them
                        async for note in conn.notifies(timeout=0.2):
                            for woken in self.waiters.get(note.channel, ()):
                                woken.set()
            except (psycopg.OperationalError, psycopg.InterfaceError):
                self.listening.clear()
                for ready in self.ready.values():
                    ready.clear()
                self._wake_all()  # a notification may have been lost: everyone reads again
                failures += 1
                await asyncio.sleep(min(5.0, 0.1 * 2 ** min(failures, 10)))

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None


def _sse(event: str, data: Any, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class Dashboard:
    def __init__(self, gateway: Gateway, cfg: DashboardConfig) -> None:
        self.gateway = gateway
        self.cfg = cfg
        self.listener = Listener(cfg.db_url) if cfg.db_url else None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if self.listener is not None:
                await self.listener.close()

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/dashboard", self.redirect, methods=["GET"]),
            Route("/dashboard/config.json", self.config, methods=["GET"]),
            Route("/api/events/stream", self.stream, methods=["GET"]),
            Route("/api/dashboard/dev/identities", self.dev_identities, methods=["GET"]),
            Route("/api/dashboard/dev/token", self.dev_token, methods=["POST"]),
        ]
        if (self.cfg.directory / "index.html").is_file():
            routes.append(Mount("/dashboard", StaticFiles(directory=self.cfg.directory, html=True)))
        else:
            routes.append(Route("/dashboard/{path:path}", self.not_built, methods=["GET"]))
        return routes

    # -- static ----------------------------------------------------------------------------
    async def redirect(self, request: Request) -> Response:
        return RedirectResponse("/dashboard/")

    async def not_built(self, request: Request) -> Response:
        return error(
            503,
            "dashboard_not_built",
            f"the dashboard is not built ({self.cfg.directory} has no index.html)",
            "run `make setup` (dashboard/build.sh)",
        )

    async def config(self, request: Request) -> Response:
        return JSONResponse(
            {
                "mode": "local",
                "anonKey": self.gateway.cfg.anon_key,
                "devSignIn": self.cfg.dev_jwt_secret is not None,
                "eventStream": "/api/events/stream",
            },
            headers={"cache-control": "no-store"},
        )

    # -- upstream calls under the caller's credentials --------------------------------------
    async def _call(
        self, authorization: str, name: str, args: dict[str, Any]
    ) -> tuple[int, Any, bytes]:
        headers = {
            "authorization": authorization,
            "content-profile": "api",
            "accept": "application/json",
            "content-type": "application/json",
        }
        try:
            async with self.gateway.http().post(
                f"{self.gateway.cfg.upstream}/rpc/{name}", data=json.dumps(args), headers=headers
            ) as answer:
                body = await answer.read()
                status = answer.status
        except UPSTREAM_ERRORS as exc:
            problem = {
                "code": "PT502",
                "message": f"PostgREST did not answer: {type(exc).__name__}",
                "details": json.dumps({"reason": "upstream_unavailable"}),
                "hint": None,
            }
            return 502, problem, json.dumps(problem).encode()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        return status, parsed, body

    # -- /api/events/stream ----------------------------------------------------------------
    async def stream(self, request: Request) -> Response:
        auth, refused = self.gateway.credentials(request, bearer_suffices=True)
        if refused is not None:
            return refused
        authorization = auth["authorization"]
        status, who, body = await self._call(authorization, "whoami", {})
        if status != 200:
            return Response(body, status_code=status, media_type="application/json")
        cursor = request.headers.get("last-event-id") or request.query_params.get("cursor")
        if not cursor:
            status, head, body = await self._call(authorization, "events_head", {})
            if status != 200:
                return Response(body, status_code=status, media_type="application/json")
            cursor = str(head)
        return StreamingResponse(
            self._events(authorization, who, cursor),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    async def _events(
        self, authorization: str, who: dict[str, Any], cursor: str
    ) -> AsyncIterator[bytes]:
        channel = str(who["events_channel"])
        listener = self.listener
        woken = listener.subscribe(channel) if listener is not None else asyncio.Event()
        try:
            if listener is not None:
                # LISTEN before the first read: a commit between the read and the wait wakes us
                await listener.listening_to(channel, timeout=1.0)
            yield b"retry: 1000\n\n" + _sse(
                "ready",
                {
                    "cursor": cursor,
                    "workspace_id": who.get("workspace_id"),
                    "role": who.get("role"),
                    "listening": listener is not None and channel in listener.listening,
                },
                cursor,
            )
            hot_until = 0.0
            last_write = time.monotonic()
            while True:
                woken.clear()
                status, rows, _ = await self._call(
                    authorization, "events_since", {"cursor": cursor, "limit": PAGE}
                )
                if status != 200:
                    yield _sse("stream-error", {"status": status, "error": rows})
                    return
                if rows:
                    cursor = str(rows[-1]["cursor"])
                    yield _sse("events", rows, cursor)
                    last_write = time.monotonic()
                    hot_until = last_write + HOT_SECONDS
                    if len(rows) == PAGE:
                        continue
                now = time.monotonic()
                timeout = HOT_READ_SECONDS if now < hot_until else self.cfg.poll_seconds
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), timeout)
                    hot_until = time.monotonic() + HOT_SECONDS
                if time.monotonic() - last_write > PING_SECONDS:
                    yield b": ping\n\n"
                    last_write = time.monotonic()
        finally:
            if listener is not None:
                listener.unsubscribe(channel, woken)

    # -- dev sign-in (local stack only) -----------------------------------------------------
    def _dev_refusal(self, request: Request) -> Response | None:
        if self.cfg.dev_jwt_secret is None:
            return error(
                404,
                "dev_sign_in_off",
                "dev sign-in is off: it exists on a local `collab stack` only",
                "sign in with your Supabase session",
            )
        client = request.client.host if request.client else ""
        if client not in LOOPBACK:
            return error(403, "forbidden", "dev sign-in answers loopback clients only")
        return None

    async def dev_identities(self, request: Request) -> Response:
        refused = self._dev_refusal(request)
        if refused is not None:
            return refused
        workspaces: dict[str, dict[str, Any]] = {}
        if self.cfg.db_url is not None:
            async with await psycopg.AsyncConnection.connect(
                self.cfg.db_url, autocommit=True, application_name="collab-gateway-dev"
            ) as conn:
                cursor = await conn.execute(DEV_IDENTITIES)
                for workspace_id, name, user_id, role in await cursor.fetchall():
                    entry = workspaces.setdefault(
                        str(workspace_id), {"id": str(workspace_id), "name": name, "members": []}
                    )
                    if user_id is not None:
                        entry["members"].append({"user_id": str(user_id), "role": role})
        return JSONResponse({"workspaces": list(workspaces.values())})

    async def dev_token(self, request: Request) -> Response:
        from collab import stack

        refused = self._dev_refusal(request)
        if refused is not None:
            return refused
        assert self.cfg.dev_jwt_secret is not None
        try:
            body = await request.json()
            workspace = str(body["workspace_id"])
            user = body.get("user_id")
        except (ValueError, KeyError, TypeError):
            return error(400, "invalid_input", "send {workspace_id, user_id (null: operator)}")
        if user is None:  # the operator: the service role acting in that workspace
            token = stack.mint_token(
                self.cfg.dev_jwt_secret, "service_role", workspace=workspace, ttl=DEV_TOKEN_SECONDS
            )
        else:
            token = stack.mint_token(
                self.cfg.dev_jwt_secret,
                "authenticated",
                sub=str(user),
                workspace=workspace,
                ttl=DEV_TOKEN_SECONDS,
            )
        return JSONResponse(
            {"access_token": token, "expires_in": DEV_TOKEN_SECONDS},
            headers={"cache-control": "no-store"},
        )
