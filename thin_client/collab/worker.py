"""``collab.Worker``: runs handlers for claimed jobs. Thin: every decision is the database's.

One loop promises free slots to claim calls of up to ``max_batch`` jobs and hands them to a
claim pool without waiting for them (a call's jobs start on the pool's thread when it returns;
with max_batch=1 a slot's thread claims its next job itself when its handler returns and runs
it there, like one consumer per slot); the loop wakes on its workspace's channel
``collab_jobs:<workspace_id>`` (found once through ``api.whoami`` as the client's caller; a
notification names the queues that got runnable jobs, or none for "any", or says in how many
milliseconds jobs of some queues will be due: the listen thread wakes the loop at each), on a
full claim, on a reported job and on a freed slot while the last claim came back full, with a
poll fallback
(after a claim that found the queue drained, a freed slot waits for its job's report: at low
load a job costs one claim that finds nothing, more with max_batch=1, whose calls go side by
side; an idle worker waits for its lane's turn on the listen connection, ``api.wait_turn``,
and only the worker of a workspace and set of queues holding it claims on wake-ups, so k idle
workers make one claim a job, not k); a reporter thread sends finished jobs with one ``api.complete_batch`` on another
connection, so reporting one batch overlaps claiming the next (a slot is free when its handler
returns; at most twice ``concurrency`` leases are held, counting finished jobs not reported
yet). A heartbeat thread extends the leases of the jobs it holds, each named with its lease token,
every lease/3 (at most every ``heartbeat_seconds``; a job claimed for it whose answer it never
got is left to expire) and tells running handlers when their job was cancelled or their lease
lost; their results are then discarded (the database would refuse them anyway). A job claimed
again while its earlier attempt's handler still runs (that lease expired) tells that handler at
once.

Shutdown (SIGTERM/SIGINT or :meth:`stop`): stop claiming, let running handlers finish within
``grace_seconds``, then fail what is left back as retryable. :meth:`run` returns once the
heartbeat, reporter and listen threads have ended and closed their connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import logging
import os
import select
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from collab import queries
from collab.api_core import execute_as
from collab.client import Artifact, ClaimedJob, Client, HeartbeatResult, LeaseLost

log = logging.getLogger("collab.worker")

# The due times of delayed jobs a worker keeps from its notifications, at most: the earliest
# (each is one wake-up; of a statement's jobs, their distinct times up to the 64th:
# collab.notify_jobs_later). Jobs of those it drops start at its poll, as every delayed job did
# before revision 0020.
MAX_DUE_TIMES = 1000

# The longest one wait for the turn (api.wait_turn) lasts, whatever poll_seconds is. A waiting
# call holds a snapshot, as any statement does, and while one is held Postgres can remove no row
# version of its database that died after it was taken: an idle worker polling every 6 s held
# the cleanup horizon back for the whole 6 s, again at every wait, as an idle transaction does
# (the held-snapshot row of docs/bench.md). A worker with a longer poll waits again when a wait runs
# out, and polls only once its poll_seconds have passed (tests/py/integration/test_turns.py).
TURN_WAIT_SECONDS = 1.0


def keep_due(due: list[float], at: float) -> None:
    """Add the due time ``at`` to the heap ``due`` (heapq), keeping the earliest MAX_DUE_TIMES:
    a worker that heard of a thousand jobs due tomorrow still wakes for one due in a minute."""
    if len(due) < MAX_DUE_TIMES:
        heapq.heappush(due, at)
    elif at < (latest := max(due)):
        due[due.index(latest)] = at
        heapq.heapify(due)


def take_due(due: list[float], now: float) -> bool:
    """Take the due times up to ``now`` off the heap ``due``: whether there were any."""
    taken = False
    while due and due[0] <= now:
        heapq.heappop(due)
        taken = True
    return taken


class NonRetryable(Exception):
    """Raise from a handler to send the job straight to the dead-letter queue."""


def _hold(running: dict[int, Any], ctx: HandlerContext) -> None:
    """Hold a claimed job. One claimed again while its earlier attempt's handler still runs here
    (that lease expired, say through heartbeats that failed for longer than it, and this executor
    claimed the job anew) replaces the earlier attempt, which has lost the job: its handler is
    told so now, its report is refused (lease_lost) and its token is no longer named in
    heartbeats."""
    stale = running.get(ctx.job.id)
    if stale is not None and stale.job.lease_token != ctx.job.lease_token:
        stale.lease_lost.set()
    running[ctx.job.id] = ctx


def _forget_attempt(running: dict[int, Any], ctx: HandlerContext) -> None:
    """Forget a reported job, unless a newer attempt of it runs here (see :func:`_hold`),
    whose lease the heartbeats go on extending."""
    if running.get(ctx.job.id) is ctx:
        del running[ctx.job.id]


class JobAborted(Exception):
    """Raised by :meth:`JobContext.check` when the job was cancelled or its lease lost."""


class HandlerContext:
    """A handler's job and the two flags that tell it to stop (threading events for a sync
    handler, :class:`JobContext`; asyncio events for an async one under
    :class:`collab.AsyncWorker`)."""

    job: ClaimedJob
    cancelled: threading.Event | asyncio.Event
    lease_lost: threading.Event | asyncio.Event

    @property
    def payload(self) -> Any:
        return self.job.payload

    @property
    def aborted(self) -> bool:
        return self.cancelled.is_set() or self.lease_lost.is_set()

    def check(self) -> None:
        """Raise :class:`JobAborted` when the job should stop."""
        if self.aborted:
            raise JobAborted("cancelled" if self.cancelled.is_set() else "lease lost")


@dataclass
class JobContext(HandlerContext):
    """What a handler gets: the job, and ways to report progress and learn of a cancel."""

    job: ClaimedJob
    client: Client
    cancelled: threading.Event = field(default_factory=threading.Event)
    lease_lost: threading.Event = field(default_factory=threading.Event)

    def progress(self, progress: float | None = None, message: str | None = None) -> None:
        try:
            self.client.progress(self.job.id, self.job.lease_token, progress, message)
        except LeaseLost:
            self.lease_lost.set()
            raise

    def put_artifact(
        self,
        name: str,
        data: bytes | str,
        media_type: str = "application/octet-stream",
        metadata: Mapping[str, Any] | None = None,
    ) -> Artifact:
        """Leave an artifact of this job (an ``artifact_created`` event in its stream)."""
        return self.client.put_artifact(
            name, data, media_type, job_id=self.job.id, metadata=metadata
        )


Handler = Callable[[JobContext], Any]
# What a worker's registry holds: collab.AsyncWorker gives async handlers an AsyncJobContext.
AnyHandler = Callable[[Any], Any]


@dataclass
class _Outcome:
    """A finished handler's outcome, waiting for the reporter (both workers)."""

    ctx: HandlerContext
    ok: bool
    result: Any = None
    error: Any = None
    retryable: bool = True
    started: float = 0.0

    @classmethod
    def unknown_type(cls, ctx: HandlerContext, started: float) -> _Outcome:
        """No handler for the job's type: dead at once."""
        error = {"reason": "unknown_type", "type": ctx.job.type}
        return cls(ctx, False, error=error, retryable=False, started=started)

    @classmethod
    def raised(cls, ctx: HandlerContext, exc: Exception, started: float) -> _Outcome:
        """The handler raised: retried with backoff, or dead at once for NonRetryable."""
        retryable = not isinstance(exc, NonRetryable)
        return cls(ctx, False, error=_error(exc), retryable=retryable, started=started)


class WorkerSettings:
    """What both workers (:class:`Worker`, :class:`collab.AsyncWorker`) are given and how they
    read it: the queues, slots and timings, the handlers by job type, the lease heartbeat's
    interval, which wake-ups are theirs, and the line logged per finished job."""

    def __init__(
        self,
        client: Client,
        queues: Sequence[str],
        concurrency: int = 4,
        *,
        name: str | None = None,
        lease_seconds: int | None = None,
        heartbeat_seconds: int = 5,
        poll_seconds: float = 1.0,
        grace_seconds: float = 10.0,
        max_batch: int = 1000,
        listen: bool = True,
        turns: bool = True,
    ) -> None:
        if not queues:
            raise ValueError("a worker needs at least one queue")
        self.client = client
        self.queues = list(queues)
        self._queue_set = frozenset(self.queues)
        self.concurrency = max(1, concurrency)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self.max_batch = max_batch
        self.listen = listen
        self.turns = turns
        self.handlers: dict[str, AnyHandler] = {}
        self.executor_id: UUID | None = None
        self.processed = 0
        self._jobs_channel: str | None = None  # the workspace's wake-up channel (api.whoami)
        # The last claim came back with fewer jobs than it asked for: the queue had no more
        # (see _freed_slot_wakes).
        self._drained = False
        # The turn (api.wait_turn) on the listen connection: "free" (no turn asked for: the
        # worker claims on every wake-up of its queues, as without turns), "waiting" (idle,
        # waiting for its lane's turn: another worker of the lane claims on the wake-ups) or
        # "leader" (it holds the turn). _turns_ok is cleared when the database has no turns.
        self._turn = "free"
        self._turns_ok = True
        # While waiting for the turn: when the next poll is due (time.monotonic()).
        self._turn_poll_at = 0.0
        self._init_state()

    def _init_state(self) -> None:
        """The worker's own state, from the settings above (each worker sets up its own)."""

    def task(self, type: str) -> Callable[[AnyHandler], AnyHandler]:
        """Decorator: ``@worker.task("send_email")`` registers a sync or async handler."""

        def register(fn: AnyHandler) -> AnyHandler:
            self.handlers[type] = fn
            return fn

        return register

    def _heartbeat_interval(self) -> float:
        interval = float(self.heartbeat_seconds)
        if self.lease_seconds:
            interval = min(interval, self.lease_seconds / 3)
        return max(interval, 0.2)

    @staticmethod
    def _tell_handlers(beat: HeartbeatResult, held: Mapping[int, HandlerContext]) -> None:
        """Tell the handlers of the held jobs a heartbeat found cancelled or lost (their results
        are then discarded: the database would refuse them anyway)."""
        for job_id in beat.cancelled:
            if job_id in held:
                held[job_id].cancelled.set()
        for job_id in beat.lost:
            if job_id in held:
                held[job_id].lease_lost.set()

    def _freed_slot_wakes(self, stopping: bool) -> bool:
        """Whether a slot a handler just freed wakes the worker: while the last claim came back
        full (it claims for the slot at once; with max_batch=1 a thread worker's slot claims
        for itself), and when stopping (the shutdown waits for freed slots). After a claim that
        found the queue drained, the job's report makes the next claim (it frees the lease and,
        on a queue with a concurrency limit, the place there), or a notification or the poll:
        at low load one claim that finds nothing a job, not one for the slot and one for the
        report."""
        return stopping or not self._drained

    def _wants_turn(self, room: bool) -> bool:
        """Whether the worker should wait for its lane's turn: it listens, its last claim found
        the queues drained and it has room for a job. Of k such workers on the same queues, the
        one holding the turn claims on a wake-up; the others would each make a claim that finds
        nothing (docs/scaling.md, "Many idle workers")."""
        return self.listen and self.turns and self._turns_ok and self._drained and room

    def _turn_waiting(self) -> bool:
        """Whether a wake-up (a notification, a due time, the poll's timer) is this worker's to
        skip: it waits for its lane's turn and is still idle. The worker holding the turn claims
        for it; the waiting one claims when it gets the turn and after each wait that ran out
        (its poll)."""
        return self._turn == "waiting" and self._drained

    def _turn_params(self) -> dict[str, Any]:
        """api.wait_turn's arguments: the worker's lane, waiting up to its poll interval and
        at most TURN_WAIT_SECONDS (the snapshot a wait holds)."""
        wait_ms = max(1, round(min(self.poll_seconds, TURN_WAIT_SECONDS) * 1000))
        return {"executor_id": self.executor_id, "queues": self.queues, "wait_ms": wait_ms}

    def _turn_action(self, room: bool, stopping: bool) -> str:
        """What the listen loop does about the turn now, the state noted: "wait" for it (the
        worker wants it; starting to wait, its first poll is due ``poll_seconds`` later), "end"
        it (held while stopping: the next worker of the lane claims from now on), or nothing
        ("")."""
        if self._turn == "leader":
            return "end" if stopping else ""
        want = not stopping and self._wants_turn(room)
        if want and self._turn != "waiting":
            self._turn_poll_at = time.monotonic() + self.poll_seconds
        self._turn = "waiting" if want else "free"
        return "wait" if want else ""

    def _hands_over_turn(self, asked_now: bool, room: bool) -> bool:
        """After the notifications read: whether to give up the turn held. A job due now was
        announced and the worker has no room for it: a waiting worker of the lane takes the
        turn and claims it (it reads the notification when its wait returns)."""
        return asked_now and self._turn == "leader" and not room

    def _took_turn(self, got: bool) -> tuple[bool, bool]:
        """After a wait for the turn: the state noted; whether the call went through, and
        whether the worker wakes to claim: for its first claim with the turn, or for its poll
        once a wait runs out ``poll_seconds`` (give or take 10 ms) after the last (a wait lasts
        up to TURN_WAIT_SECONDS)."""
        if not self._turns_ok:
            return False, False
        self._turn = "leader" if got else "waiting"
        if got:
            return True, True
        now = time.monotonic()
        if now < self._turn_poll_at - 0.01:
            return True, False
        self._turn_poll_at = now + self.poll_seconds
        return True, True

    @contextlib.contextmanager
    def _turn_call(self) -> Iterator[None]:
        """Around a turn call: a broken connection goes on to the listen loop (which
        reconnects; the turn ended with the session); any other error (a database without
        api.wait_turn, a role taken away) turns turns off: the worker claims on every wake-up,
        as without turns."""
        try:
            yield
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            log.warning("turns are off for this worker: %s", exc)
            self._turns_ok = False
            self._turn = "free"

    def _heard(self, payload: str) -> list[float] | None:
        """What a notification on the jobs channel asks of this worker: None, nothing (none of
        its queues); ``[0.0]``, claim now; else claim in each of those many seconds. A payload
        names the queues that got runnable jobs (comma-separated; empty: any queue, too many
        to list), or is ``@<ms>[,<ms>...] <queues>``: jobs of those queues are due those
        milliseconds after the statement that wrote them, whose commit sent it
        (collab.notify_jobs_later), so waking that long after it arrives is never early."""
        delays = [0.0]
        if payload.startswith("@"):
            times, _, payload = payload[1:].partition(" ")
            ms = times.split(",")
            if not all(m.isdigit() for m in ms):
                return None
            delays = [int(m) / 1000 for m in ms]
        if payload == "" or not self._queue_set.isdisjoint(payload.split(",")):
            return delays
        return None

    def _log_outcome(self, o: _Outcome, outcome: str, error: Any = None) -> None:
        log.info(
            "job %s",
            outcome,
            extra={
                "job_id": o.ctx.job.id,
                "attempt": o.ctx.job.attempt,
                "queue": o.ctx.job.queue,
                "type": o.ctx.job.type,
                "executor": str(self.executor_id),
                "duration": round(time.monotonic() - o.started, 6),
                "error_reason": (error or {}).get("reason") if isinstance(error, dict) else None,
            },
        )


class Worker(WorkerSettings):
    def _init_state(self) -> None:
        self._running: dict[int, JobContext] = {}
        self._done: list[_Outcome] = []
        self._executing = 0
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._done_ready = threading.Event()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._pool = ThreadPoolExecutor(
            max_workers=self.concurrency, thread_name_prefix="collab-job"
        )
        # Claim calls run on the claim pool, never on the main loop, which goes on while they
        # are under way. As many side by side as the free slots need calls of max_batch
        # (four slots with max_batch=1: four calls of one, like four consumers), at most as
        # many as the client's pool has connections, less the reporter's and the heartbeat's.
        self._claim_lanes = max(
            1,
            min(-(-self.concurrency // max(1, self.max_batch)), self.client.pool.max_size - 2),
        )
        self._claimers = ThreadPoolExecutor(
            max_workers=self._claim_lanes, thread_name_prefix="collab-claim"
        )
        # Under _lock: slots held for claims under way, and how many calls they are; whether
        # the main loop woke while every slot was promised to a call under way (the call wakes
        # it again when it returns: a wake-up for a job its snapshot missed is not lost); the
        # idle test's answer; a claim's error that is not a broken connection.
        self._claiming = 0
        self._claim_calls = 0
        self._claim_wanted = False
        self._idle = False
        self._claim_error: BaseException | None = None
        self._claim_paused_until = 0.0
        self._stop_when_idle = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listen_stop_r = self._listen_stop_w = -1

    # -- control -------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop claiming; running jobs get ``grace_seconds`` to finish."""
        self._stopping.set()
        self._wake.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT call :meth:`stop`. Call from the main thread, once.

        A Python signal handler runs on the main thread between two bytecodes, possibly while
        that thread holds the lock inside one of the worker's Events (every ``wait`` and
        ``clear`` takes it). Setting an Event from the handler would then wait forever for a
        lock its own thread holds. So the handler only writes a byte to a pipe; a thread
        reading the pipe calls :meth:`stop`.
        """
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)

        def watch() -> None:
            while os.read(read_fd, 1):
                self.stop()

        def on_signal(signum: int, frame: object) -> None:
            with contextlib.suppress(BlockingIOError):  # a full pipe already says "stop"
                os.write(write_fd, b"\0")

        threading.Thread(target=watch, name="collab-signals", daemon=True).start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)

    def run(self, *, stop_when_idle: bool = False) -> None:
        """Run until :meth:`stop` (or, with stop_when_idle, until no job is claimable)."""
        while True:
            try:
                self.executor_id = self.client.register_executor(
                    self.name, self.queues, heartbeat_seconds=self.heartbeat_seconds
                )
                if self.listen and self._jobs_channel is None:
                    self._jobs_channel = str(self.client.whoami()["jobs_channel"])
                break
            except psycopg.OperationalError as exc:  # the database is restarting: wait for it
                log.warning("register failed, retrying: %s", exc)
                if self._stopping.wait(self.poll_seconds):
                    return
        log.info("worker started", extra={"executor": str(self.executor_id), "queues": self.queues})
        threads = [
            threading.Thread(target=self._heartbeat_loop, name="collab-heartbeat", daemon=True),
            threading.Thread(target=self._report_loop, name="collab-report", daemon=True),
        ]
        if self.listen:
            threads.append(
                threading.Thread(target=self._listen_loop, name="collab-listen", daemon=True)
            )
        # The listen thread waits on its connection and on this pipe, so that it ends as soon
        # as the worker stops instead of at the next timeout.
        self._listen_stop_r, self._listen_stop_w = os.pipe()
        for t in threads:
            t.start()
        try:
            self._main_loop(stop_when_idle)
        finally:
            self._shutdown()
            self._stopped.set()
            self._done_ready.set()
            os.write(self._listen_stop_w, b"\0")
            # When run() returns, the helper threads have ended and closed their connections
            # (a caller may drop the database next).
            for t in threads:
                t.join(self.poll_seconds + 5)
            if not any(t.is_alive() for t in threads):  # else the listen thread may still read it
                os.close(self._listen_stop_r)
                os.close(self._listen_stop_w)
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)

    # -- the loop ------------------------------------------------------------------------
    def _main_loop(self, stop_when_idle: bool) -> None:
        """Promise free slots to claim calls and hand the calls to the claim pool; never wait
        for one. A call's jobs start on the pool's thread as soon as it returns."""
        assert self.executor_id is not None
        self._stop_when_idle = stop_when_idle
        polled = False  # woken by the poll's timer, not by a wake-up
        while not self._stopping.is_set():
            self._wake.clear()
            with self._lock:
                if self._claim_error is not None:
                    error, self._claim_error = self._claim_error, None
                    raise error
                if self._idle:  # only ever set with stop_when_idle
                    break
                # A worker waiting for its turn polls when each wait runs out (the listen
                # thread wakes it), not on this timer.
                asks = [] if polled and self._turn_waiting() else self._promise_slots()
            for n in asks:
                self._claimers.submit(self._claim_call, n)
            pause = self._claim_paused_until - time.monotonic()
            polled = not self._wake.wait(
                min(self.poll_seconds, pause) if pause > 0 else self.poll_seconds
            )

    def _promise_slots(self) -> list[int]:
        """Under _lock: the sizes of the claim calls to make now, their slots promised. A slot
        is free when no handler runs in it and no call under way holds it; at most twice
        ``concurrency`` leases are held, counting finished jobs not reported yet."""
        if time.monotonic() < self._claim_paused_until:
            return []
        free = self._free_slots()
        lanes = self._claim_lanes - self._claim_calls
        asks = [min(self.max_batch, free - i) for i in range(0, max(free, 0), self.max_batch)]
        asks = asks[: max(lanes, 0)]
        if asks:
            self._claiming += sum(asks)
            self._claim_calls += len(asks)
            self._claim_wanted = self._idle = False
        elif self._claim_calls:
            self._claim_wanted = True
        return asks

    def _room(self) -> int:
        """Under _lock: slots with no handler running, at most twice ``concurrency`` leases
        held (finished jobs count until they are reported)."""
        return min(self.concurrency - self._executing, 2 * self.concurrency - len(self._running))

    def _free_slots(self) -> int:
        """Under _lock: the slots of :meth:`_room` that no claim under way holds."""
        return self._room() - self._claiming

    def _claim_call(self, n: int) -> None:
        """One claim call of up to ``n`` jobs, on the claim pool: start its jobs, give back its
        promised slots, and wake the main loop when it should claim again at once: the call
        came back full (there may be more), or a wake-up came while it was under way, or
        (stop_when_idle) nothing was found and nothing runs."""
        jobs, failure = self._claim(n)
        for job in jobs:
            self._dispatch(job)
        self._settle(n, jobs, failure, full_wakes=True)

    def _claim(self, n: int) -> tuple[list[ClaimedJob], BaseException | None]:
        """Claim up to ``n`` jobs for slots promised to this call: the jobs, or the error the
        main loop should raise (a broken connection pauses claims instead)."""
        executor_id = self.executor_id
        assert executor_id is not None
        try:
            return self.client.claim(executor_id, self.queues, n, self.lease_seconds), None
        except psycopg.OperationalError as exc:  # the database is restarting: wait for it
            log.warning("claim failed, retrying: %s", exc)
            self._claim_paused_until = time.monotonic() + self.poll_seconds
            return [], None
        except BaseException as exc:  # raised by the main loop, which then shuts down
            return [], exc

    def _settle(
        self, n: int, jobs: list[ClaimedJob], failure: BaseException | None, full_wakes: bool
    ) -> None:
        """Give back the ``n`` slots promised to a claim call whose jobs were registered, and
        wake the main loop when it should claim again at once (see :meth:`_claim_call`)."""
        with self._lock:
            self._claiming -= n
            self._claim_calls -= 1
            if failure is not None and self._claim_error is None:
                self._claim_error = failure
            idle = (
                self._stop_when_idle
                and not jobs
                and self._claim_calls == 0
                and not self._running
                and not self._done
                and time.monotonic() >= self._claim_paused_until
            )
            self._idle = self._idle or idle
            if failure is None:
                self._drained = len(jobs) < n
            full = full_wakes and len(jobs) == n
            wake = full or self._claim_wanted or failure is not None or idle
            if wake:
                self._claim_wanted = False
        if wake:
            self._wake.set()

    def _register(self, job: ClaimedJob) -> JobContext:
        ctx = JobContext(job, self.client)
        with self._lock:
            _hold(self._running, ctx)
            self._executing += 1
        return ctx

    def _dispatch(self, job: ClaimedJob) -> None:
        ctx = self._register(job)
        if self.max_batch == 1:
            self._pool.submit(self._slot, ctx)
        else:
            future = self._pool.submit(self._execute, ctx)
            future.add_done_callback(self._finished)

    def _slot(self, ctx: JobContext) -> None:
        """With max_batch=1, a slot's thread claims its next job itself when a handler returns
        and runs it, like a consumer of its own, instead of waking the main loop to claim for
        it on the claim pool and handing the job back to this pool (three thread hand-offs a
        job fewer). The claim is promised and counted as the main loop's are (free slots,
        lease cap, claim lanes); when there is none to make, the slot is free for the main
        loop, as after a handler on the other path."""
        while True:
            outcome = self._execute(ctx)
            with self._lock:
                self._done.append(outcome)
                self._executing -= 1
                wakes = self._freed_slot_wakes(self._stopping.is_set())
                again = wakes and self._promise_own_slot()
                wake = wakes and not again
            self._done_ready.set()
            if wake:  # the main loop claims for the slot
                self._wake.set()
            if not again:
                return
            jobs, failure = self._claim(1)
            nxt = [self._register(job) for job in jobs]
            # A found job fills this slot: no wake-up for it (the main loop claims for other
            # free slots on a notification, a freed slot or the poll, as before).
            self._settle(1, jobs, failure, full_wakes=False)
            if not nxt:
                return
            ctx = nxt[0]

    def _promise_own_slot(self) -> bool:
        """Under _lock, for a freed slot that wakes the worker (:meth:`_freed_slot_wakes`):
        promise it to a claim of one on its own thread, when the main loop would make that
        claim now (not stopping or paused, the slot free under the lease cap, a claim lane
        free)."""
        if self._stopping.is_set() or self._idle or time.monotonic() < self._claim_paused_until:
            return False
        if self._free_slots() < 1 or self._claim_calls >= self._claim_lanes:
            return False
        self._claiming += 1
        self._claim_calls += 1
        return True

    def _execute(self, ctx: JobContext) -> _Outcome:
        started = time.monotonic()
        handler = self.handlers.get(ctx.job.type)
        if handler is None:
            return _Outcome.unknown_type(ctx, started)
        try:
            if inspect.iscoroutinefunction(handler):
                result = asyncio.run_coroutine_threadsafe(handler(ctx), self._event_loop()).result()
            else:
                result = handler(ctx)
            return _Outcome(ctx, True, result=result, started=started)
        except Exception as exc:
            return _Outcome.raised(ctx, exc, started)

    def _finished(self, future: Future[_Outcome]) -> None:
        outcome = future.result()
        with self._lock:
            self._done.append(outcome)
            self._executing -= 1
            wake = self._freed_slot_wakes(self._stopping.is_set())
        self._done_ready.set()
        if wake:
            self._wake.set()

    def _report_loop(self) -> None:
        while not self._stopped.is_set():
            self._done_ready.wait(self.poll_seconds)
            self._done_ready.clear()
            try:
                self._flush()
            except Exception:  # logged; the outcomes are retried or already forgotten
                log.exception("reporting finished jobs failed")

    def _flush(self) -> None:
        """Report finished jobs: successes in one complete_batch, failures one by one."""
        with self._flush_lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        with self._lock:
            done, self._done = self._done, []
        if not done:
            return
        report = [o for o in done if not o.ctx.aborted]
        successes = [o for o in report if o.ok]
        try:
            if successes:
                outcomes = self.client.complete_batch(
                    [(o.ctx.job.id, o.ctx.job.lease_token, o.result) for o in successes]
                )
                for o, c in zip(successes, outcomes, strict=True):
                    self._log_outcome(o, "succeeded" if c.ok else (c.reason or "rejected"))
            for o in report:
                if o.ok:
                    continue
                try:
                    job = self.client.fail(
                        o.ctx.job.id, o.ctx.job.lease_token, o.error, retryable=o.retryable
                    )
                    self._log_outcome(o, job.status, o.error)
                except LeaseLost:
                    self._log_outcome(o, "lease_lost")
        except psycopg.OperationalError as exc:
            # The connection broke (database restart, network): keep the outcomes (their
            # leases keep being extended) and report them again on the next turn. A repeated
            # complete with the same token is a no-op; a repeated fail is lease_lost, logged.
            log.warning("reporting %d finished jobs failed, retrying: %s", len(done), exc)
            with self._lock:
                self._done[:0] = done
            self._stopping.wait(self.poll_seconds)
            return
        except BaseException:
            self._forget(done)
            raise
        self._forget(done)

    def _forget(self, done: list[_Outcome]) -> None:
        with self._lock:
            for o in done:
                _forget_attempt(self._running, o.ctx)
                self.processed += 1
        for o in done:
            if o.ctx.aborted:
                self._log_outcome(o, "discarded")
        self._wake.set()  # slots and, with stop_when_idle, the idle test

    # -- heartbeat and wake-ups ----------------------------------------------------------
    def _heartbeat_loop(self) -> None:
        assert self.executor_id is not None
        while not self._stopped.wait(self._heartbeat_interval()):
            with self._lock:
                held = dict(self._running)
            try:
                beat = self.client.heartbeat(
                    self.executor_id, list(held), [c.job.lease_token for c in held.values()]
                )
            except Exception as exc:
                log.warning("heartbeat failed: %s", exc)
                continue
            self._tell_handlers(beat, held)

    def _listen_loop(self) -> None:
        # The times (monotonic) at which jobs heard of are due, a heap (keep_due), a job due
        # now's too: the thread wakes the worker at each.
        due: list[float] = []
        while not self._stopped.is_set():
            try:
                with psycopg.connect(
                    self.client.dsn, autocommit=True, application_name=f"collab-listen {self.name}"
                ) as conn:
                    assert self._jobs_channel is not None
                    conn.execute(
                        sql.SQL(queries.LISTEN_CHANNEL).format(sql.Identifier(self._jobs_channel))
                    )
                    while not self._stopped.is_set():
                        ready: list[Any] = []
                        asked = self._turn_step(conn)  # held-back notifications read below
                        if not asked:
                            wait = min(1.0, max(0.0, due[0] - time.monotonic())) if due else 1.0
                            ready, _, _ = select.select(
                                [conn.fileno(), self._listen_stop_r], [], [], wait
                            )
                        if self._listen_stop_r in ready:
                            return
                        now_asked = False
                        if asked or ready:
                            for note in conn.notifies(timeout=0):
                                delays = self._heard(note.payload)
                                for delay in delays or ():
                                    keep_due(due, time.monotonic() + delay)  # 0.0: now
                                now_asked = now_asked or delays == [0.0]
                        with self._lock:
                            hand_over = self._hands_over_turn(now_asked, self._room() > 0)
                        if hand_over:
                            self._end_turn(conn)
                        if take_due(due, time.monotonic()) and not self._turn_waiting():
                            self._wake.set()
            except psycopg.Error as exc:  # a restart or a cut: reconnect
                self._turn = "free"  # (the turn ended with the session) the poll claims meanwhile
                if self._stopped.is_set():
                    return
                log.warning("listen connection lost, reconnecting: %s", exc)
                self._stopped.wait(self.poll_seconds)

    def _turn_step(self, conn: psycopg.Connection[Any]) -> bool:
        """On the listen thread: wait for the lane's turn when the worker wants it (up to its
        poll interval, at most TURN_WAIT_SECONDS), then wake the worker when it got the turn or
        its poll is due (:meth:`_took_turn`); give it up when stopping. Whether it waited."""
        with self._lock:
            action = self._turn_action(self._room() > 0, self._stopping.is_set())
        if action == "end":
            self._end_turn(conn)
        if action != "wait":
            return False
        got = False
        with self._turn_call(), conn.cursor() as cur:
            execute_as(cur, queries.WAIT_TURN, self._turn_params(), self.client._claims_json)
            row = cur.fetchone()
            got = bool(row and row[0])
        with self._lock:
            went, wakes = self._took_turn(got)
        if wakes:
            self._wake.set()
        return went

    def _end_turn(self, conn: psycopg.Connection[Any]) -> None:
        """Give up the turn held (api.end_turn)."""
        with self._lock:
            self._turn = "free"
        with self._turn_call():
            conn.execute(queries.END_TURN)

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="collab-async", daemon=True).start()
                self._loop = loop
            return self._loop

    # -- shutdown ------------------------------------------------------------------------
    def _shutdown(self) -> None:
        # Claim calls under way return first: their jobs start, and run or are failed back
        # below like the others.
        self._claimers.shutdown(wait=True)
        deadline = time.monotonic() + self.grace_seconds
        while self._running and time.monotonic() < deadline:
            self._flush()
            self._wake.wait(0.05)
            self._wake.clear()
        self._flush()
        with self._lock:
            left = list(self._running.values())
        for ctx in left:
            ctx.cancelled.set()
            with contextlib.suppress(LeaseLost):
                self.client.fail(
                    ctx.job.id,
                    ctx.job.lease_token,
                    {"reason": "worker_shutdown"},
                    retryable=True,
                    retry_in=timedelta(0),
                )
        self._pool.shutdown(wait=False, cancel_futures=True)
        log.info("worker stopped", extra={"executor": str(self.executor_id)})


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "reason": "exception",
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "traceback": "".join(traceback.format_exception(exc))[-4000:],
    }
