"""``collab.AsyncWorker``: the worker on one asyncio event loop, for async handlers.

The same contract as :class:`collab.Worker` (every decision is the database's), without its
threads: each claimed job runs as a task on the loop, so a job costs no hand-off between
threads on its way from the claim to its handler and from its handler to the report. One task
claims, one call at a time of up to ``max_batch`` jobs for the free slots, on its own
connection; a reporter task sends finished jobs with one ``api.complete_batch`` on another, so
reporting one batch overlaps claiming the next; a slot is free when its handler returns, and at
most twice ``concurrency`` leases are held, counting finished jobs not reported yet. The claim
task wakes on the workspace's channel ``collab_jobs:<workspace_id>`` (found once through
``api.whoami``; at once, or when the delayed jobs a notification tells of are due), on a full
claim, on a reported job, and on a freed slot while its last claim came back full (after one
that found the queue drained, the report claims for the slot), with a poll fallback; while
idle it takes turns with the other workers of its lane as :class:`collab.Worker` does (the
listen task waits for the turn, ``api.wait_turn``). A heartbeat task
extends the leases of the jobs it holds, each named with its lease token, every lease/3 (at most every
``heartbeat_seconds``; a job claimed for it whose answer it never got is left to expire) and
tells running handlers
when their job was cancelled or their lease lost; their results are then discarded.

Async handlers run on the loop and get an :class:`AsyncJobContext`; a sync handler runs in a
thread (``asyncio.to_thread``), so it cannot stall the loop, and gets the
:class:`collab.JobContext` it would get under :class:`collab.Worker`. Calls are made as the
client's caller (its JWT claims, set transaction-locally in each call's own transaction, as
:class:`collab.Client` does).

Shutdown (:meth:`AsyncWorker.stop`, or SIGTERM/SIGINT after
:meth:`AsyncWorker.install_signal_handlers`): stop claiming, let running handlers finish
within ``grace_seconds``, then cancel what is left and fail it back as retryable.
:meth:`AsyncWorker.run` returns once its tasks have ended and its connections are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from collab import queries
from collab.api_core import (
    Artifact,
    ClaimedJob,
    HeartbeatResult,
    Job,
    LeaseLost,
    _json,
    _row,
    aexecute_as,
    translate,
)
from collab.worker import (
    HandlerContext,
    JobContext,
    WorkerSettings,
    _forget_attempt,
    _hold,
    _Outcome,
    keep_due,
    take_due,
)

log = logging.getLogger("collab.worker")


@dataclass
class AsyncJobContext(HandlerContext):
    """What an async handler gets: the job, and ways to report progress and learn of a cancel
    (``payload``, ``aborted`` and ``check()`` as on :class:`collab.JobContext`)."""

    job: ClaimedJob
    worker: AsyncWorker = field(repr=False)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    lease_lost: asyncio.Event = field(default_factory=asyncio.Event)

    async def progress(self, progress: float | None = None, message: str | None = None) -> Job:
        params = {
            "job_id": self.job.id,
            "lease_token": self.job.lease_token,
            "progress": progress,
            "message": message,
        }
        try:
            rows = await self.worker._call("calls", queries.PROGRESS, params)
        except LeaseLost:
            self.lease_lost.set()
            raise
        return _row(Job, rows[0])

    async def put_artifact(
        self,
        name: str,
        data: bytes | str,
        media_type: str = "application/octet-stream",
        metadata: Mapping[str, Any] | None = None,
    ) -> Artifact:
        """Leave an artifact of this job (an ``artifact_created`` event in its stream)."""
        return await asyncio.to_thread(
            self.worker.client.put_artifact,
            name,
            data,
            media_type,
            job_id=self.job.id,
            metadata=metadata,
        )


class AsyncWorker(WorkerSettings):
    def _init_state(self) -> None:
        self.max_batch = max(1, self.max_batch)
        # Leases held: jobs running or finished and not reported yet (the lease cap counts
        # both); handlers running; finished jobs waiting for the reporter.
        self._running: dict[int, HandlerContext] = {}
        # The handlers' tasks, an earlier attempt's of a job claimed again included.
        self._tasks: set[asyncio.Task[None]] = set()
        self._executing = 0
        self._done: list[_Outcome] = []
        self._conns: dict[str, psycopg.AsyncConnection[Any]] = {}
        # One call at a time on a connection: a call with claims is two statements in one
        # pipeline (its transaction), which another task's call must not join.
        self._conn_locks: dict[str, asyncio.Lock] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_asked = False
        self._signals = False
        self._claim_paused_until = 0.0
        # The loop times at which delayed jobs heard of will be due, a heap (keep_due), and
        # the one timer, set for the earliest (_wake_later).
        self._due: list[float] = []
        self._due_timer: asyncio.TimerHandle | None = None

    # -- control -------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop claiming; running jobs get ``grace_seconds`` to finish. Safe from any thread."""
        self._stop_asked = True
        loop = self._loop
        if loop is None:
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._stopping.set()
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed: run() has returned
                loop.call_soon_threadsafe(self._stopping.set)
                loop.call_soon_threadsafe(self._wake.set)

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT call :meth:`stop`, through the loop (set before :meth:`run`)."""
        self._signals = True

    async def run(self, *, stop_when_idle: bool = False) -> None:
        """Run until :meth:`stop` (or, with stop_when_idle, until no job is claimable)."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._done_ready = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        if self._stop_asked:
            self._stopping.set()
        if self._signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._loop.add_signal_handler(sig, self.stop)
        helpers: list[asyncio.Task[None]] = []
        try:
            if not await self._register():
                return
            log.info(
                "worker started", extra={"executor": str(self.executor_id), "queues": self.queues}
            )
            helpers = [
                asyncio.create_task(self._heartbeat_loop(), name="collab-heartbeat"),
                asyncio.create_task(self._report_loop(), name="collab-report"),
            ]
            if self.listen:
                helpers.append(asyncio.create_task(self._listen_loop(), name="collab-listen"))
            await self._claim_loop(stop_when_idle)
        finally:
            try:
                if self.executor_id is not None:
                    await self._shutdown()
            finally:
                self._stopping.set()
                for t in helpers:
                    t.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)
                for conn in self._conns.values():
                    await conn.close()
                self._conns.clear()
                if self._signals:
                    for sig in (signal.SIGTERM, signal.SIGINT):
                        self._loop.remove_signal_handler(sig)

    # -- calls ---------------------------------------------------------------------------
    async def _conn(self, role: str) -> psycopg.AsyncConnection[Any]:
        """This worker's connection for ``role`` (claims, reports, heartbeats, handlers'
        calls), opened again after it broke."""
        conn = self._conns.get(role)
        if conn is None or conn.closed or conn.broken:
            conn = await psycopg.AsyncConnection.connect(
                self.client.dsn, autocommit=True, application_name=f"collab-{role} {self.name}"
            )
            self._conns[role] = conn
        return conn

    async def _call(self, role: str, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        async with self._conn_locks.setdefault(role, asyncio.Lock()):
            conn = await self._conn(role)
            try:
                async with conn.cursor(row_factory=dict_row) as cur:
                    await aexecute_as(cur, query, params, self.client._claims_json)
                    return await cur.fetchall()
            except psycopg.Error as exc:
                raise translate(exc) from exc

    async def _register(self) -> bool:
        """Register the executor (and find the wake-up channel), waiting out a database that is
        restarting; False when stopped first."""
        while True:
            try:
                rows = await self._call(
                    "claims",
                    queries.REGISTER_EXECUTOR,
                    {
                        "name": self.name,
                        "queues": self.queues,
                        "heartbeat_seconds": self.heartbeat_seconds,
                    },
                )
                self.executor_id = UUID(str(rows[0]["register_executor"]))
                if self.listen:
                    whoami = (await self._call("claims", queries.WHOAMI, {}))[0]["whoami"]
                    self._jobs_channel = str(whoami["jobs_channel"])
                return True
            except psycopg.OperationalError as exc:
                log.warning("register failed, retrying: %s", exc)
                if await self._sleep(self.poll_seconds, self._stopping):
                    return False

    @staticmethod
    async def _sleep(seconds: float, event: asyncio.Event) -> bool:
        """Wait up to ``seconds`` for ``event``; whether it is set."""
        if not event.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await event.wait()
        return event.is_set()

    # -- the loop ------------------------------------------------------------------------
    def _free_slots(self) -> int:
        """Slots with no handler running, at most twice ``concurrency`` leases held (finished
        jobs count until they are reported)."""
        return min(self.concurrency - self._executing, 2 * self.concurrency - len(self._running))

    async def _claim_loop(self, stop_when_idle: bool) -> None:
        assert self.executor_id is not None
        polled = False  # woken by the poll's timer, not by a wake-up
        while not self._stopping.is_set():
            self._wake.clear()
            free = self._free_slots()
            # A worker waiting for its turn polls when each wait runs out (the listen task wakes
            # it), not on this timer.
            skip = polled and self._turn_waiting()
            if free > 0 and not skip and time.monotonic() >= self._claim_paused_until:
                n = min(free, self.max_batch)
                jobs = await self._claim(n)
                self._drained = len(jobs) < n
                for job in jobs:
                    self._start(job)
                if len(jobs) == n:
                    continue  # there may be more: claim again at once for the slots left
                idle = not jobs and not self._running
                if stop_when_idle and idle and time.monotonic() >= self._claim_paused_until:
                    return  # (a claim that failed on a broken connection paused claims)
            polled = not await self._sleep(self.poll_seconds, self._wake)

    async def _claim(self, n: int) -> list[ClaimedJob]:
        params = {
            "executor_id": self.executor_id,
            "queues": self.queues,
            "max_jobs": n,
            "lease_seconds": self.lease_seconds,
        }
        try:
            rows = await self._call("claims", queries.CLAIM, params)
        except psycopg.OperationalError as exc:  # the database is restarting: wait for it
            log.warning("claim failed, retrying: %s", exc)
            self._claim_paused_until = time.monotonic() + self.poll_seconds
            return []
        return [_row(ClaimedJob, r) for r in rows]

    def _start(self, job: ClaimedJob) -> None:
        handler = self.handlers.get(job.type)
        ctx: HandlerContext
        if handler is None or inspect.iscoroutinefunction(handler):
            ctx = AsyncJobContext(job, self)
        else:
            ctx = JobContext(job, self.client)
        _hold(self._running, ctx)
        self._executing += 1
        self._tasks.add(asyncio.create_task(self._execute(ctx), name=f"collab-job-{job.id}"))

    async def _execute(self, ctx: HandlerContext) -> None:
        started = time.monotonic()
        handler = self.handlers.get(ctx.job.type)
        try:
            if handler is None:
                outcome = _Outcome.unknown_type(ctx, started)
            else:
                try:
                    if inspect.iscoroutinefunction(handler):
                        result = await handler(ctx)
                    else:
                        result = await asyncio.to_thread(handler, ctx)
                    outcome = _Outcome(ctx, True, result=result, started=started)
                except Exception as exc:
                    outcome = _Outcome.raised(ctx, exc, started)
            self._done.append(outcome)
            self._done_ready.set()
        finally:  # cancelled at shutdown: the job is failed back there
            self._executing -= 1
            task = asyncio.current_task()
            if task is not None:
                self._tasks.discard(task)
            if self._freed_slot_wakes(self._stopping.is_set()):
                self._wake.set()

    # -- reporting -----------------------------------------------------------------------
    async def _report_loop(self) -> None:
        while True:
            await self._done_ready.wait()
            self._done_ready.clear()
            try:
                await self._flush()
            except Exception:  # logged; the outcomes are retried or already forgotten
                log.exception("reporting finished jobs failed")

    async def _flush(self) -> None:
        """Report finished jobs: successes in one complete_batch, failures one by one."""
        async with self._flush_lock:
            done, self._done = self._done, []
            if done:
                await self._report(done)

    async def _report(self, done: list[_Outcome]) -> None:
        report = [o for o in done if not o.ctx.aborted]
        successes = [o for o in report if o.ok]
        try:
            if successes:
                items = [
                    {
                        "job_id": o.ctx.job.id,
                        "lease_token": str(o.ctx.job.lease_token),
                        "result": o.result,
                    }
                    for o in successes
                ]
                rows = await self._call("reports", queries.COMPLETE_BATCH, {"items": Jsonb(items)})
                for o, row in zip(successes, rows, strict=True):
                    outcome = "succeeded" if row["ok"] else (row["reason"] or "rejected")
                    self._log_outcome(o, outcome)
            for o in report:
                if o.ok:
                    continue
                try:
                    job = await self._fail(o.ctx, o.error, o.retryable, None)
                    self._log_outcome(o, job.status, o.error)
                except LeaseLost:
                    self._log_outcome(o, "lease_lost")
        except psycopg.OperationalError as exc:
            # The connection broke: keep the outcomes (their leases keep being extended) and
            # report them again on the next turn. A repeated complete with the same token is a
            # no-op; a repeated fail is lease_lost, logged.
            log.warning("reporting %d finished jobs failed, retrying: %s", len(done), exc)
            self._done[:0] = done
            await self._sleep(self.poll_seconds, self._stopping)
            self._done_ready.set()
            return
        except BaseException:
            self._forget(done)
            raise
        self._forget(done)

    async def _fail(
        self, ctx: HandlerContext, error: Any, retryable: bool, retry_in: timedelta | None
    ) -> Job:
        """api.fail of a held job under its lease, on the reporter's connection."""
        params = {
            "job_id": ctx.job.id,
            "lease_token": ctx.job.lease_token,
            "error": _json(error),
            "retryable": retryable,
            "retry_in": retry_in,
        }
        return _row(Job, (await self._call("reports", queries.FAIL, params))[0])

    def _forget(self, done: list[_Outcome]) -> None:
        for o in done:
            _forget_attempt(self._running, o.ctx)
            self.processed += 1
            if o.ctx.aborted:
                self._log_outcome(o, "discarded")
        self._wake.set()  # slots under the lease cap and, with stop_when_idle, the idle test

    # -- heartbeat and wake-ups ----------------------------------------------------------
    async def _heartbeat_loop(self) -> None:
        while not await self._sleep(self._heartbeat_interval(), self._stopping):
            await self._beat()

    async def _beat(self) -> None:
        held = dict(self._running)
        params = {
            "executor_id": self.executor_id,
            "job_ids": list(held),
            "lease_tokens": [c.job.lease_token for c in held.values()],
        }
        try:
            beat = _row(
                HeartbeatResult, (await self._call("heartbeats", queries.HEARTBEAT, params))[0]
            )
        except Exception as exc:
            log.warning("heartbeat failed: %s", exc)
            return
        self._tell_handlers(beat, held)

    def _wake_later(self, delays: Sequence[float] | None = None) -> None:
        """Wake the claim task in each of ``delays`` seconds (jobs heard of will be due then):
        one timer on the loop, for the earliest due time kept; when it fires, the claim task
        wakes and the timer is set for the next (called without delays)."""
        loop = asyncio.get_running_loop()
        if delays is None:  # the timer fired (the loop may run it a little early)
            take_due(self._due, loop.time() + 0.001)
            if not self._turn_waiting():
                self._wake.set()
        else:
            for delay in delays:
                keep_due(self._due, loop.time() + delay)
        if self._due_timer is not None:
            self._due_timer.cancel()
        self._due_timer = loop.call_at(self._due[0], self._wake_later) if self._due else None

    async def _listen_loop(self) -> None:
        assert self._jobs_channel is not None
        while not self._stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.client.dsn, autocommit=True, application_name=f"collab-listen {self.name}"
                ) as conn:
                    await conn.execute(
                        sql.SQL(queries.LISTEN_CHANNEL).format(sql.Identifier(self._jobs_channel))
                    )
                    while True:
                        asked = await self._turn_step(conn)
                        # After a wait for the turn, the notifications it held back (at once);
                        # else the next ones, up to a second (then the turn is looked at again).
                        now_asked = False
                        async with contextlib.aclosing(
                            conn.notifies(timeout=0 if asked else 1.0, stop_after=1)
                        ) as notes:
                            async for note in notes:
                                delays = self._heard(note.payload)
                                if delays == [0.0]:  # now: no timer on the wake-up's path
                                    now_asked = True
                                    if not self._turn_waiting():
                                        self._wake.set()
                                elif delays:
                                    self._wake_later(delays)
                        if self._hands_over_turn(now_asked, self._free_slots() > 0):
                            await self._end_turn(conn)
            except psycopg.Error as exc:  # a restart or a cut: reconnect
                self._turn = "free"  # (the turn ended with the session) the poll claims meanwhile
                log.warning("listen connection lost, reconnecting: %s", exc)
                await self._sleep(self.poll_seconds, self._stopping)

    async def _turn_step(self, conn: psycopg.AsyncConnection[Any]) -> bool:
        """On the listen task: wait for the lane's turn when the worker wants it (up to its
        poll interval, at most TURN_WAIT_SECONDS), then wake the claim task when it got the turn
        or its poll is due (:meth:`_took_turn`); give it up when stopping. Whether it
        waited."""
        action = self._turn_action(self._free_slots() > 0, self._stopping.is_set())
        if action == "end":
            await self._end_turn(conn)
        if action != "wait":
            return False
        got = False
        with self._turn_call():
            async with conn.cursor() as cur:
                await aexecute_as(
                    cur, queries.WAIT_TURN, self._turn_params(), self.client._claims_json
                )
                row = await cur.fetchone()
                got = bool(row and row[0])
        went, wakes = self._took_turn(got)
        if wakes:
            self._wake.set()
        return went

    async def _end_turn(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Give up the turn held (api.end_turn)."""
        self._turn = "free"
        with self._turn_call():
            await conn.execute(queries.END_TURN)

    # -- shutdown ------------------------------------------------------------------------
    async def _shutdown(self) -> None:
        if self._due_timer is not None:
            self._due_timer.cancel()
        deadline = time.monotonic() + self.grace_seconds
        while self._executing and time.monotonic() < deadline:
            await self._flush()
            self._wake.clear()
            await self._sleep(0.05, self._wake)
        await self._flush()
        left = list(self._running.values())
        tasks = [t for t in self._tasks if not t.done()]
        for ctx in left:
            ctx.cancelled.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ctx in left:
            with contextlib.suppress(LeaseLost):
                await self._fail(ctx, {"reason": "worker_shutdown"}, True, timedelta(0))
            self._running.pop(ctx.job.id, None)
        log.info("worker stopped", extra={"executor": str(self.executor_id)})


__all__ = ["AsyncJobContext", "AsyncWorker"]
