"""The rows, the typed errors and the way one ``api`` call is executed (claims set in the
call's own transaction): what ``collab.client`` and ``collab.subscribe`` share. Both import this
module and neither imports the other's internals, so there is no import cycle; ``collab.client``
re-exports every public name here, the place to import them from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from collab import queries
from collab.errors import CollabError

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


@dataclass(frozen=True)
class Artifact:
    """An artifact's metadata (``api.artifact``); its bytes come through a signed URL."""

    id: int
    job_id: int | None
    name: str
    media_type: str
    size: int
    sha256: str
    metadata: Any
    created_by: UUID | None
    created_at: datetime


@dataclass(frozen=True)
class Invitation:
    """A pending invitation of the caller (api.list_invitations)."""

    workspace_id: UUID
    name: str
    role: str
    invited_at: datetime
    expires_at: datetime


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


class TooLarge(ApiError):
    """PT413: an artifact over max_artifact_bytes, or the workspace's storage quota full."""

    status = 413


class Unavailable(ApiError):
    """PT503: the server cannot do it now (no URL signing key installed)."""

    status = 503


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
    "PT413": TooLarge,
    "PT503": Unavailable,
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


def refusal(body: Mapping[str, Any]) -> ApiError:
    """The typed error of a refusal returned in PostgREST's error shape (``code``, ``message``,
    ``details`` with the reason, ``hint``), as ``api.read_secret`` returns its denials."""
    try:
        detail = json.loads(str(body.get("details") or "{}"))
    except ValueError:
        detail = {}
    state = str(body.get("code", ""))
    reason = str(detail.get("reason", "error"))
    cls = _BY_REASON.get(reason) or _BY_STATE.get(state, ApiError)
    return cls(state, reason, str(body.get("message", "")), detail, str(body.get("hint") or ""))


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
