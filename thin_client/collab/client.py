"""``collab.Client``: one method per ``api`` function, typed rows, typed errors.

The client decides nothing: every rule is enforced by the database. A PTxxx error raised by
an ``api`` function becomes the exception class of its reason (``LeaseLost``,
``IdempotencyConflict``, ...), carrying the reason, the field and the DETAIL.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from collab import queries
from collab.api_core import (
    ApiError,
    Artifact,
    ClaimedJob,
    Completion,
    Conflict,
    Event,
    Executor,
    Forbidden,
    Gone,
    HeartbeatResult,
    IdempotencyConflict,
    IllegalTransition,
    InvalidInput,
    Invitation,
    Job,
    LeaseLost,
    NotCancellable,
    NotDead,
    NotFound,
    Queue,
    QueueStats,
    RateLimited,
    TooLarge,
    Unavailable,
    _json,
    _row,
    aexecute_as,
    claims_json,
    execute_as,
    refusal,
    translate,
)
from collab.subscribe import AsyncSubscription, Subscription

# Re-exported: import rows and errors from here (or from ``collab``).
__all__ = [
    "ApiError",
    "Artifact",
    "ClaimedJob",
    "Client",
    "Completion",
    "Conflict",
    "Event",
    "Executor",
    "Forbidden",
    "Gone",
    "HeartbeatResult",
    "IdempotencyConflict",
    "IllegalTransition",
    "InvalidInput",
    "Invitation",
    "Job",
    "LeaseLost",
    "NotCancellable",
    "NotDead",
    "NotFound",
    "Queue",
    "QueueStats",
    "RateLimited",
    "TooLarge",
    "Unavailable",
    "aexecute_as",
    "claims_json",
    "execute_as",
    "translate",
]


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

    # artifacts (docs/artifacts.md) ----------------------------------------------------
    def put_artifact(
        self,
        name: str,
        data: bytes | str,
        media_type: str = "application/octet-stream",
        *,
        job_id: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Artifact:
        """Store ``data`` (str: its UTF-8) as an artifact, optionally of a job (which then
        gets an ``artifact_created`` event). The bytes travel base64, as over REST; at most the
        workspace's max_artifact_bytes (32 MiB by default): :class:`TooLarge` beyond."""
        raw = data.encode() if isinstance(data, str) else bytes(data)
        params = {
            "name": name,
            "data": base64.b64encode(raw).decode("ascii"),
            "media_type": media_type,
            "job_id": job_id,
            "metadata": _json(dict(metadata) if metadata is not None else None),
        }
        return _row(Artifact, self._one(queries.PUT_ARTIFACT, params))

    def get_artifact(self, artifact_id: int) -> Artifact:
        return _row(Artifact, self._one(queries.GET_ARTIFACT, {"id": artifact_id}))

    def list_artifacts(
        self,
        *,
        job_id: int | None = None,
        prefix: str | None = None,
        media_type: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[Artifact], str | None]:
        """One page of artifacts (newest first) and the cursor of the next (None at the end)."""
        rows = self._all(
            queries.LIST_ARTIFACTS,
            {
                "job_id": job_id,
                "prefix": prefix,
                "media_type": media_type,
                "created_after": created_after,
                "created_before": created_before,
                "after": after,
                "limit": limit,
            },
        )
        cursor = rows[-1]["cursor"] if len(rows) == limit else None
        return [_row(Artifact, r) for r in rows], cursor

    def delete_artifact(self, artifact_id: int) -> Artifact:
        return _row(Artifact, self._one(queries.DELETE_ARTIFACT, {"id": artifact_id}))

    def sign_artifact(
        self, artifact_id: int, expires_in: int = 3600, *, supabase_url: str | None = None
    ) -> dict[str, Any]:
        """A signed download URL (Supabase Storage's shape). With ``supabase_url`` (the stack's
        or the project's URL) ``signedUrl`` is the full URL, as storage-js builds it."""
        signed = dict(
            self._one(queries.SIGN_ARTIFACT, {"id": artifact_id, "expires_in": expires_in})[
                "signed"
            ]
        )
        if supabase_url is not None:
            relative = str(signed["signedURL"])
            signed["signedUrl"] = (
                supabase_url.rstrip("/")
                + "/storage/v1"
                + quote(relative, safe="/?=&;,:@+$-_.!~*'()#")
            )
        return signed

    def metrics_overview(self, minutes: int = 15) -> dict[str, Any]:
        """The dashboard's overview document (the Edge Function metrics-overview's answer)."""
        return dict(self._one(queries.METRICS_OVERVIEW, {"minutes": minutes})["overview"])

    def function_quota(self, name: str) -> dict[str, Any]:
        """Take one token of the Edge Functions' quota for ``name`` (:class:`RateLimited`)."""
        return dict(self._one(queries.FUNCTION_QUOTA, {"name": name})["quota"])

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

    def heartbeat(
        self,
        executor_id: UUID,
        job_ids: Sequence[int] | None = None,
        lease_tokens: Sequence[UUID] | None = None,
    ) -> HeartbeatResult:
        """Presence, and the leases of ``job_ids`` extended (the jobs the executor runs; empty:
        none). A job it holds but does not name is left to expire and be retried. Without
        ``job_ids`` (None), every lease the executor holds is extended. ``lease_tokens``, one
        per job id in the same order, fences them: a job named with a token that is not its
        current one is in ``lost`` and its lease is not extended."""
        ids = None if job_ids is None else list(job_ids)
        tokens = None if lease_tokens is None else list(lease_tokens)
        row = self._one(
            queries.HEARTBEAT,
            {"executor_id": executor_id, "job_ids": ids, "lease_tokens": tokens},
        )
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

    def list_queues(self, limit: int = 100, after: str | None = None) -> list[QueueStats]:
        """One page of the workspace's queues by name: at most ``limit`` (1-1000) after the
        name ``after`` (the last queue of the previous page)."""
        out = []
        for r in self._all(queries.LIST_QUEUES, {"limit": limit, "after": after}):
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
        """Remove the events older than ``older_than`` until none is left; how many. A call drops
        every partition of the stream old enough at once (revision 0029), or, on a database
        with no range partition yet, deletes a batch of ``batch_size``."""
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
        """Changes the role of a member of the caller's workspace, or invites a user who is
        not one (admin): ``status`` is ``member`` or ``invited`` (the user then calls
        :meth:`accept_invitation`). The service role adds members directly."""
        row = self._one(queries.ADD_MEMBER, {"user_id": user_id, "role": role})
        return dict(row["member"])

    def remove_member(self, user_id: UUID) -> dict[str, Any]:
        """Removes a member of the caller's workspace and cancels their pending invitation
        (admin; never someone above the caller, nor the last owner)."""
        return dict(self._one(queries.REMOVE_MEMBER, {"user_id": user_id})["member"])

    def leave_workspace(self) -> dict[str, Any]:
        """Leaves the workspace the caller acts in (the last owner cannot: Conflict)."""
        return dict(self._one(queries.LEAVE_WORKSPACE, {})["membership"])

    def list_invitations(self) -> list[Invitation]:
        """The signed-in caller's pending invitations (works with no workspace yet)."""
        return [_row(Invitation, r) for r in self._all(queries.LIST_INVITATIONS, {})]

    def accept_invitation(self, workspace_id: UUID | str) -> dict[str, Any]:
        """Joins ``workspace_id`` with the invited role (NotFound, or Gone when expired)."""
        row = self._one(queries.ACCEPT_INVITATION, {"workspace_id": workspace_id})
        return dict(row["membership"])

    def decline_invitation(self, workspace_id: UUID | str) -> dict[str, Any]:
        """Refuses the pending invitation to ``workspace_id`` (NotFound when there is none)."""
        row = self._one(queries.DECLINE_INVITATION, {"workspace_id": workspace_id})
        return dict(row["invitation"])

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

    def configure_limits(
        self,
        workspace_id: UUID | str | None = None,
        *,
        workspaces_per_user: int | None = None,
        queues: int | None = None,
        executors: int | None = None,
        stored_jobs: int | None = None,
        payload_ceiling_bytes: int | None = None,
    ) -> dict[str, Any]:
        """Sets the operator's limits (service role only): the platform defaults, or with
        ``workspace_id`` that workspace's overrides (0 removes one). None leaves a value as it
        is. Returns the limits in force. Over a limit a call raises :class:`RateLimited`
        (quota_exceeded)."""
        row = self._one(
            queries.CONFIGURE_LIMITS,
            {
                "workspace_id": workspace_id,
                "workspaces_per_user": workspaces_per_user,
                "queues": queues,
                "executors": executors,
                "stored_jobs": stored_jobs,
                "payload_ceiling_bytes": payload_ceiling_bytes,
            },
        )
        return dict(row["limits"])

    def get_limits(self) -> dict[str, Any]:
        """The limits in force in the caller's workspace (operator limits and admin quotas)
        and its usage (queues, executors, stored_jobs)."""
        return dict(self._one(queries.GET_LIMITS, {})["limits"])

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

    # search (docs/search.md) ------------------------------------------------------------
    def index_documents(
        self, collection: str, documents: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Index up to 1000 documents ``{key, title, path, body, metadata}`` into a collection
        (created on first use; a key already there is replaced); searchable at once."""
        row = self._one(
            queries.INDEX_DOCUMENTS,
            {"collection": collection, "documents": Jsonb([dict(d) for d in documents])},
        )
        return dict(row["result"])

    def search(
        self,
        collection: str,
        query: str,
        k: int = 10,
        filters: Mapping[str, Any] | None = None,
        highlights: bool = True,
    ) -> list[dict[str, Any]]:
        """The top ``k`` documents for ``query``, best first: rank, key, title, path, score,
        highlight, metadata. filters: ``path_prefix``, ``metadata`` (containment), ``keys``."""
        return self._all(
            queries.SEARCH,
            {
                "collection": collection,
                "query": query,
                "k": k,
                "filters": Jsonb(dict(filters or {})),
                "highlights": highlights,
            },
        )

    def drop_collection(self, collection: str) -> int:
        """Drop a collection with its documents; the number of documents dropped."""
        return int(self._one(queries.DROP_COLLECTION, {"collection": collection})["dropped"])

    # LLM routing (docs/routing.md) ------------------------------------------------------
    def put_route(
        self,
        service: str,
        name: str,
        provider: str,
        model: str,
        *,
        base_url: str | None = None,
        input_price: float = 0,
        output_price: float = 0,
        context_window: int = 8192,
        capabilities: Sequence[str] = (),
        tags: Sequence[str] = (),
        region: str | None = None,
        data_collection: str = "deny",
        weight: float = 1,
        rpm: int | None = None,
        tpm: int | None = None,
        secret_name: str | None = None,
        enabled: bool = True,
    ) -> dict[str, Any]:
        """Create or replace a route of ``service`` (admin); prices in USD per million tokens."""
        row = self._one(
            queries.PUT_ROUTE,
            {
                "service": service,
                "name": name,
                "provider": provider,
                "model": model,
                "base_url": base_url,
                "input_price": input_price,
                "output_price": output_price,
                "context_window": context_window,
                "capabilities": list(capabilities),
                "tags": list(tags),
                "region": region,
                "data_collection": data_collection,
                "weight": weight,
                "rpm": rpm,
                "tpm": tpm,
                "secret_name": secret_name,
                "enabled": enabled,
            },
        )
        return dict(row["route"])

    def list_routes(self, service: str | None = None) -> list[dict[str, Any]]:
        return [dict(r["route"]) for r in self._all(queries.LIST_ROUTES, {"service": service})]

    def configure_routing(
        self,
        service: str,
        strategy: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Strategy (latency, cost, usage, weighted, price_weighted) and settings of a service."""
        row = self._one(
            queries.CONFIGURE_ROUTING,
            {"service": service, "strategy": strategy, "settings": _json(settings)},
        )
        return dict(row["routing"])

    def rank_routes(self, service: str, request: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Rank the routes of ``service`` for one call; the snapshot written (one per call)."""
        row = self._one(
            queries.RANK_ROUTES, {"service": service, "request": Jsonb(dict(request or {}))}
        )
        return dict(row["snapshot"])

    def record_route_outcome(
        self,
        snapshot_id: int,
        route: str,
        status: int,
        *,
        latency_ms: float | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost: float | None = None,
        error: str | None = None,
        retry_after: float | None = None,
    ) -> dict[str, Any]:
        """Record one call of ``route`` (status 0: no response); ``fallback``/``cooled`` back,
        and on a failure ``cooling``: the service's routes cooling down now."""
        row = self._one(
            queries.RECORD_ROUTE_OUTCOME,
            {
                "snapshot_id": snapshot_id,
                "route": route,
                "status": status,
                "latency_ms": latency_ms,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cost": cost,
                "error": error,
                "retry_after": retry_after,
            },
        )
        return dict(row["outcome"])

    def routing_snapshot(self, service: str) -> dict[str, Any]:
        """The latest snapshot of ``service`` (what ``/api/metrics/routing`` shows)."""
        return dict(self._one(queries.ROUTING_SNAPSHOT, {"service": service})["snapshot"])

    # the key vault (docs/vault.md; service role only) -----------------------------------
    def put_secret(
        self,
        name: str,
        value: str,
        *,
        expires_at: datetime | None = None,
        cas: int | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Store a new version (current; the former current becomes previous)."""
        row = self._one(
            queries.PUT_SECRET,
            {
                "name": name,
                "value": value,
                "expires_at": expires_at,
                "cas": cas,
                "description": description,
            },
        )
        return dict(row["secret"])

    def read_secret(
        self, name: str, label: str = "current", version: int | None = None
    ) -> dict[str, Any]:
        """Decrypt and verify a secret; a refusal (returned by the database so that its audit
        row commits) is raised here as the typed error of its reason."""
        result = dict(
            self._one(queries.READ_SECRET, {"name": name, "label": label, "version": version})[
                "secret"
            ]
        )
        if "code" in result:
            raise refusal(result)
        return result

    def delete_secret(self, name: str, destroy: bool = False) -> dict[str, Any]:
        return dict(self._one(queries.DELETE_SECRET, {"name": name, "destroy": destroy})["secret"])

    def restore_secret(self, name: str) -> dict[str, Any]:
        return dict(self._one(queries.RESTORE_SECRET, {"name": name})["secret"])

    def list_secrets(self, limit: int = 100, after: str | None = None) -> list[dict[str, Any]]:
        return self._all(queries.LIST_SECRETS, {"limit": limit, "after": after})

    def secret_audit(
        self, name: str | None = None, limit: int = 100, before: int | None = None
    ) -> list[dict[str, Any]]:
        return self._all(queries.SECRET_AUDIT, {"name": name, "limit": limit, "before": before})

    def configure_vault(
        self,
        mode: str | None = None,
        max_versions: int | None = None,
        recovery_days: int | None = None,
    ) -> dict[str, Any]:
        row = self._one(
            queries.CONFIGURE_VAULT,
            {"mode": mode, "max_versions": max_versions, "recovery_days": recovery_days},
        )
        return dict(row["vault"])

    def rewrap_secrets(self, limit: int = 1000) -> dict[str, Any]:
        """Master key rotation: re-encrypt up to ``limit`` versions with the next key."""
        return dict(self._one(queries.REWRAP_SECRETS, {"limit": limit})["rewrap"])
