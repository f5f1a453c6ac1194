"""``collab.Client``: one method per ``api`` function, typed rows, typed errors.

The client decides nothing: every rule is enforced by the database. A PTxxx error raised by
an ``api`` function becomes the exception class of its reason (``LeaseLost``,
``IdempotencyConflict``, ...), carrying the reason, the field and the DETAIL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from collab import queries
from collab.errors import CollabError

if TYPE_CHECKING:
    from collab.subscribe import AsyncSubscription, Subscription

# -- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    id: int
    queue: str
    type: str
    status: str
    payload: Any
    priority: int
    attempt: int
    max_attempts: int
    run_at: datetime
    idempotency_key: str | None
    executor_id: UUID | None
    lease_expires_at: datetime | None
    cancel_requested: bool
    progress: Any
    progress_message: str | None
    result: Any
    last_error: Any
    created_at: datetime
    claimed_at: datetime | None
    finished_at: datetime | None
    duplicate: bool = False


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    queue: str
    type: str
    payload: Any
    priority: int
    attempt: int
    max_attempts: int
    lease_token: UUID
    lease_expires_at: datetime
    run_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class HeartbeatResult:
    executor_id: UUID
    cancelled: list[int]
    lost: list[int]
    extended: int
    heartbeat_seconds: int


@dataclass(frozen=True)
class Completion:
    job_id: int
    ok: bool
    reason: str | None


@dataclass(frozen=True)
class Queue:
    name: str
    paused: bool
    concurrency_limit: int | None
    lease_seconds: int
    max_attempts: int
    backoff_base_seconds: float
    backoff_max_seconds: float
    backoff_jitter: float
    created_at: datetime


@dataclass(frozen=True)
class QueueStats:
    queue: Queue
    queued: int
    running: int
    succeeded: int
    cancelled: int
    dead: int


@dataclass(frozen=True)
class Event:
    id: int
    job_id: int | None  # None for presence events (executor_online, executor_offline)
    type: str
    queue: str | None
    job_type: str | None
    attempt: int | None
    executor_id: UUID | None
    data: Any
    created_at: datetime
    cursor: str


@dataclass(frozen=True)
class Executor:
    id: UUID
    name: str
    queues: list[str]
    heartbeat_seconds: int
    status: str  # online | stale | offline
    last_seen_at: datetime
    silent_seconds: float
    running_jobs: int
    created_at: datetime


T = TypeVar("T")


def _row(cls: type[T], row: Mapping[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in row.items() if k in names})


# -- errors -------------------------------------------------------------------------------


class ApiError(CollabError):
    """An error raised by an ``api`` function, with its stable SQLSTATE and reason."""

    status = 500

    def __init__(self, sqlstate: str, reason: str, message: str, detail: dict[str, Any], hint: str):
        super().__init__(message)
        self.sqlstate = sqlstate
        self.reason = reason
        self.message = message
        self.detail = detail
        self.hint = hint
        self.field: str | None = detail.get("field")


class InvalidInput(ApiError):
    status = 400


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class LeaseLost(Conflict):
    """The lease token is not the job's current one: stop; the result is discarded."""


class IdempotencyConflict(Conflict):
    """The idempotency key already names a different job."""


class IllegalTransition(Conflict):
    pass


class NotCancellable(Conflict):
    pass


class NotDead(Conflict):
    pass


class Gone(ApiError):
    status = 410


class RateLimited(ApiError):
    status = 429

    @property
    def retry_after(self) -> float:
        """Seconds to wait before the call can succeed (``retry_after`` in DETAIL)."""
        return float(self.detail.get("retry_after", 0))


_BY_REASON: dict[str, type[ApiError]] = {
    "lease_lost": LeaseLost,
    "idempotency_conflict": IdempotencyConflict,
    "illegal_transition": IllegalTransition,
    "not_cancellable": NotCancellable,
    "not_dead": NotDead,
}
_BY_STATE: dict[str, type[ApiError]] = {
    "PT400": InvalidInput,
    "PT403": Forbidden,
    "PT404": NotFound,
    "PT409": Conflict,
    "PT410": Gone,
    "PT429": RateLimited,
}


def translate(exc: psycopg.Error) -> Exception:
    """The typed error for a database error (the original one when it is not an api error)."""
    diag = exc.diag
    state = diag.sqlstate or ""
    if not state.startswith("PT"):
        return exc
    try:
        detail = json.loads(diag.message_detail or "{}")
    except ValueError:
        detail = {}
    reason = str(detail.get("reason", "error"))
    cls = _BY_REASON.get(reason) or _BY_STATE.get(state, ApiError)
    return cls(state, reason, diag.message_primary or str(exc), detail, diag.message_hint or "")


def _json(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)


def claims_json(claims: Mapping[str, Any] | None) -> str | None:
    """The ``request.jwt.claims`` text of ``claims`` (None: no claims, empty ones included)."""
    return json.dumps(dict(claims)) if claims else None


def execute_as(
    cur: psycopg.Cursor[Any], sql: str, params: Mapping[str, Any], claims: str | None
) -> None:
    """Execute one api call on ``cur`` as the caller ``claims`` names (None: the session's).

    With claims, ``request.jwt.claims`` is set transaction-locally in the same transaction as
    the call, both sent in one pipeline: one round trip, and the connection (pooled, or shared
    by a transaction-mode pooler) keeps no claims afterwards. The connection is in autocommit,
    so the statements up to the pipeline's Sync are one implicit transaction: the claims end
    with it, committed or rolled back. Without claims this is a plain execute.
    """
    if claims is None:
        cur.execute(sql, params)
        return
    conn = cur.connection
    with conn.pipeline():
        conn.execute(queries.SET_CLAIMS, [claims])
        cur.execute(sql, params)


async def aexecute_as(
    cur: psycopg.AsyncCursor[Any], sql: str, params: Mapping[str, Any], claims: str | None
) -> None:
    """The asyncio form of :func:`execute_as`."""
    if claims is None:
        await cur.execute(sql, params)
        return
    conn = cur.connection
    async with conn.pipeline():
        await conn.execute(queries.SET_CLAIMS, [claims])
        await cur.execute(sql, params)


# -- the client ---------------------------------------------------------------------------


class Client:
    """A pool of connections and one method per ``api`` function.

    ``claims`` (a dict) is set as ``request.jwt.claims`` on every call, the way PostgREST
    does, so the same client can act for a workspace when connected directly. They are set
    transaction-locally, in the call's own transaction and round trip (:func:`execute_as`),
    never on the session: behind a transaction-mode pooler (Supavisor, PgBouncer) no other
    client can inherit them.
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        min_size: int = 1,
        max_size: int = 8,
        claims: Mapping[str, Any] | None = None,
        application_name: str = "collab",
    ) -> None:
        if dsn is None:
            from collab.embedded import database_url

            dsn = database_url()
        self.dsn = dsn
        self.claims = dict(claims) if claims else None
        self._claims_json = claims_json(self.claims)
        self.pool = ConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True, "application_name": application_name},
            open=True,
            name="collab",
        )

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _cursor(self) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            try:
                yield cur
            except psycopg.Error as exc:
                raise translate(exc) from exc

    def _all(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self._cursor() as cur:
            execute_as(cur, sql, params, self._claims_json)
            return cur.fetchall()

    def _one(self, sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
        rows = self._all(sql, params)
        return rows[0]

    # jobs -----------------------------------------------------------------------------
    def enqueue(
        self,
        queue: str,
        type: str,
        payload: Any = None,
        *,
        priority: int | None = None,
        run_at: datetime | None = None,
        delay: timedelta | None = None,
        max_attempts: int | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        row = self._one(
            queries.ENQUEUE,
            {
                "queue": queue,
                "type": type,
                "payload": Jsonb({} if payload is None else payload),
                "priority": 0 if priority is None else priority,
                "run_at": run_at,
                "max_attempts": max_attempts,
                "idempotency_key": idempotency_key,
                "delay": delay,
            },
        )
        return _row(Job, row)

    def enqueue_batch(self, jobs: Sequence[Mapping[str, Any]]) -> list[Job]:
        """Each element: queue, type, payload, priority, run_at, delay, max_attempts, idempotency_key."""
        prepared = []
        for job in jobs:
            item = dict(job)
            for key in ("run_at",):
                if isinstance(item.get(key), datetime):
                    item[key] = item[key].isoformat()
            if isinstance(item.get("delay"), timedelta):
                item["delay"] = f"{item['delay'].total_seconds()} seconds"
            prepared.append(item)
        return [_row(Job, r) for r in self._all(queries.ENQUEUE_BATCH, {"jobs": Jsonb(prepared)})]

    def get_job(self, job_id: int) -> dict[str, Any]:
        return dict(self._one(queries.GET_JOB, {"job_id": job_id})["get_job"])

    def list_jobs(
        self,
        *,
        status: str | None = None,
        type: str | None = None,
        queue: str | None = None,
        executor_id: UUID | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[Job], str | None]:
        """One page of jobs (newest first) and the cursor of the next page (None at the end)."""
        rows = self._all(
            queries.LIST_JOBS,
            {
                "status": status,
                "type": type,
                "queue": queue,
                "executor_id": executor_id,
                "created_after": created_after,
                "created_before": created_before,
                "after": after,
                "limit": limit,
            },
        )
        cursor = rows[-1]["cursor"] if len(rows) == limit else None
        return [_row(Job, r) for r in rows], cursor

    def cancel(self, job_id: int) -> Job:
        return _row(Job, self._one(queries.CANCEL, {"job_id": job_id}))

    def requeue(self, job_ids: Sequence[int]) -> list[Job]:
        return [_row(Job, r) for r in self._all(queries.REQUEUE, {"job_ids": list(job_ids)})]

    def purge_dead(self, queue: str | None = None, older_than: timedelta | None = None) -> int:
        row = self._one(queries.PURGE_DEAD, {"queue": queue, "older_than": older_than})
        return int(row["purge_dead"])

    # executors ------------------------------------------------------------------------
    def register_executor(
        self, name: str, queues: Sequence[str], heartbeat_seconds: int = 5
    ) -> UUID:
        row = self._one(
            queries.REGISTER_EXECUTOR,
            {"name": name, "queues": list(queues), "heartbeat_seconds": heartbeat_seconds},
        )
        return UUID(str(row["register_executor"]))

    def claim(
        self,
        executor_id: UUID,
        queues: Sequence[str] | None = None,
        max_jobs: int = 1,
        lease_seconds: int | None = None,
    ) -> list[ClaimedJob]:
        rows = self._all(
            queries.CLAIM,
            {
                "executor_id": executor_id,
                "queues": None if queues is None else list(queues),
                "max_jobs": max_jobs,
                "lease_seconds": lease_seconds,
            },
        )
        return [_row(ClaimedJob, r) for r in rows]

    def heartbeat(self, executor_id: UUID, job_ids: Sequence[int] = ()) -> HeartbeatResult:
        row = self._one(queries.HEARTBEAT, {"executor_id": executor_id, "job_ids": list(job_ids)})
        return _row(HeartbeatResult, row)

    def complete(self, job_id: int, lease_token: UUID, result: Any = None) -> Job:
        row = self._one(
            queries.COMPLETE,
            {"job_id": job_id, "lease_token": lease_token, "result": _json(result)},
        )
        return _row(Job, row)

    def complete_batch(self, items: Sequence[tuple[int, UUID, Any]]) -> list[Completion]:
        """items: (job_id, lease_token, result). One outcome per item, in order."""
        payload = [
            {"job_id": job_id, "lease_token": str(token), "result": result}
            for job_id, token, result in items
        ]
        return [
            _row(Completion, r)
            for r in self._all(queries.COMPLETE_BATCH, {"items": Jsonb(payload)})
        ]

    def fail(
        self,
        job_id: int,
        lease_token: UUID,
        error: Any = None,
        *,
        retryable: bool = True,
        retry_in: timedelta | None = None,
    ) -> Job:
        row = self._one(
            queries.FAIL,
            {
                "job_id": job_id,
                "lease_token": lease_token,
                "error": _json(error),
                "retryable": retryable,
                "retry_in": retry_in,
            },
        )
        return _row(Job, row)

    def progress(
        self,
        job_id: int,
        lease_token: UUID,
        progress: float | None = None,
        message: str | None = None,
    ) -> Job:
        row = self._one(
            queries.PROGRESS,
            {
                "job_id": job_id,
                "lease_token": lease_token,
                "progress": progress,
                "message": message,
            },
        )
        return _row(Job, row)

    # queues ---------------------------------------------------------------------------
    def pause_queue(self, queue: str) -> Queue:
        return _row(Queue, self._one(queries.PAUSE_QUEUE, {"queue": queue}))

    def resume_queue(self, queue: str) -> Queue:
        return _row(Queue, self._one(queries.RESUME_QUEUE, {"queue": queue}))

    def configure_queue(
        self,
        queue: str,
        *,
        concurrency_limit: int | None = None,
        lease_seconds: int | None = None,
        max_attempts: int | None = None,
        backoff_base_seconds: float | None = None,
        backoff_max_seconds: float | None = None,
        backoff_jitter: float | None = None,
    ) -> Queue:
        row = self._one(
            queries.CONFIGURE_QUEUE,
            {
                "queue": queue,
                "concurrency_limit": concurrency_limit,
                "lease_seconds": lease_seconds,
                "max_attempts": max_attempts,
                "backoff_base_seconds": backoff_base_seconds,
                "backoff_max_seconds": backoff_max_seconds,
                "backoff_jitter": backoff_jitter,
            },
        )
        return _row(Queue, row)

    def list_queues(self) -> list[QueueStats]:
        out = []
        for r in self._all(queries.LIST_QUEUES, {}):
            out.append(
                QueueStats(
                    queue=_row(Queue, r),
                    queued=r["queued"],
                    running=r["running"],
                    succeeded=r["succeeded"],
                    cancelled=r["cancelled"],
                    dead=r["dead"],
                )
            )
        return out

    # events and housekeeping ----------------------------------------------------------
    def events_since(
        self,
        cursor: str | None = None,
        limit: int = 1000,
        *,
        queue: str | None = None,
        job_id: int | None = None,
        types: Sequence[str] | None = None,
    ) -> list[Event]:
        rows = self._all(
            queries.EVENTS_SINCE,
            {
                "cursor": cursor,
                "limit": limit,
                "queue": queue,
                "job_id": job_id,
                "types": None if types is None else list(types),
            },
        )
        return [_row(Event, r) for r in rows]

    # realtime (docs/realtime.md) ------------------------------------------------------
    def whoami(self) -> dict[str, Any]:
        """The caller (``api.whoami``): user_id, workspace_id (where every call of this client
        acts), role there, and that workspace's LISTEN channels jobs_channel, events_channel."""
        return dict(self._one(queries.WHOAMI, {})["whoami"])

    def subscribe(
        self,
        cursor: str | None = None,
        queue: str | None = None,
        job_id: int | None = None,
        types: Sequence[str] | None = None,
        *,
        follow: bool = True,
        poll_seconds: float = 2.0,
    ) -> Subscription:
        """Events from ``cursor`` on (catch up, then follow live); see ``collab.subscribe``."""
        from collab.subscribe import Subscription

        return Subscription(
            self.dsn,
            cursor=cursor,
            queue=queue,
            job_id=job_id,
            types=types,
            claims=self.claims,
            follow=follow,
            poll_seconds=poll_seconds,
        )

    def asubscribe(
        self,
        cursor: str | None = None,
        queue: str | None = None,
        job_id: int | None = None,
        types: Sequence[str] | None = None,
        *,
        follow: bool = True,
        poll_seconds: float = 2.0,
    ) -> AsyncSubscription:
        """The asyncio form of ``subscribe``: ``async for event in client.asubscribe()``."""
        from collab.subscribe import AsyncSubscription

        return AsyncSubscription(
            self.dsn,
            cursor=cursor,
            queue=queue,
            job_id=job_id,
            types=types,
            claims=self.claims,
            follow=follow,
            poll_seconds=poll_seconds,
        )

    def list_executors(self) -> list[Executor]:
        return [_row(Executor, r) for r in self._all(queries.LIST_EXECUTORS, {})]

    def purge_events(self, older_than: timedelta, batch_size: int = 10000) -> int:
        """Delete events older than ``older_than`` in batches until none is left; how many."""
        total = 0
        while True:
            row = self._one(
                queries.PURGE_EVENTS, {"older_than": older_than, "batch_size": batch_size}
            )
            total += int(row["purged"])
            if int(row["purged"]) < batch_size:
                return total

    def check_invariants(self) -> list[dict[str, Any]]:
        """Every invariant violation found (empty = healthy)."""
        return self._all(queries.CHECK_INVARIANTS, {})

    def reap(self) -> dict[str, int]:
        return dict(self._one(queries.REAP, {})["reap"])

    # tenancy ----------------------------------------------------------------------------
    def create_workspace(self, name: str) -> dict[str, Any]:
        """A new workspace, the caller its owner (service role: no owner)."""
        return dict(self._one(queries.CREATE_WORKSPACE, {"name": name})["workspace"])

    def add_member(self, user_id: UUID, role: str = "member") -> dict[str, Any]:
        """Adds (or changes the role of) a member of the caller's workspace (admin)."""
        row = self._one(queries.ADD_MEMBER, {"user_id": user_id, "role": role})
        return dict(row["member"])

    def configure_workspace(
        self, *, max_payload_bytes: int | None = None, max_queued_jobs: int | None = None
    ) -> dict[str, Any]:
        """Sets the workspace's quotas (admin); None leaves a value as it is, max_queued_jobs=0
        removes that quota. Over a quota, enqueue raises :class:`RateLimited` (quota_exceeded)."""
        row = self._one(
            queries.CONFIGURE_WORKSPACE,
            {"max_payload_bytes": max_payload_bytes, "max_queued_jobs": max_queued_jobs},
        )
        return dict(row["workspace"])

    def configure_rate_limit(
        self,
        action: str,
        scope: str = "workspace",
        rate_per_second: float | None = None,
        burst: float | None = None,
        shards: int = 1,
    ) -> dict[str, Any] | None:
        """A token bucket for ``enqueue`` or ``claim`` (admin); rate None removes the limit (and
        returns None). Over it, calls raise :class:`RateLimited` with ``retry_after`` seconds."""
        row = self._one(
            queries.CONFIGURE_RATE_LIMIT,
            {
                "action": action,
                "scope": scope,
                "rate_per_second": rate_per_second,
                "burst": burst,
                "shards": shards,
            },
        )
        return dict(row["rate_limit"]) if row["rate_limit"] is not None else None

    # metrics ----------------------------------------------------------------------------
    def metrics_summary(
        self, since: str = "15 minutes", queue: str | None = None
    ) -> dict[str, Any]:
        """Counters, phase latencies and gauges as api.metrics_summary returns them."""
        row = self._one(queries.METRICS_SUMMARY, {"since": since, "queue": queue})
        return dict(row["summary"])

    def metrics_prometheus(self) -> str:
        """The Prometheus text exposition of api.metrics_prometheus."""
        return str(self._one(queries.METRICS_PROMETHEUS, {})["exposition"])
