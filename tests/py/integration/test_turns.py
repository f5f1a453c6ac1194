"""Turns (api.wait_turn, api.end_turn; revision 0027): of the idle workers of a lane (a
workspace and a set of queues) one holds the turn and claims on a wake-up; the others wait for
it on their listen connections, whose notifications Postgres holds back meanwhile. Before, each
idle worker claimed on every wake-up: k idle workers, k claims a job, k - 1 finding nothing
(docs/scaling.md, "Many idle workers"). The single-session rules are tests/sql/546_turns.sql."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from helpers import acting_in, running, service_workspaces, wait_for, wait_listening

from collab.aio_worker import AsyncWorker
from collab.client import ClaimedJob, Client
from collab.worker import HandlerContext, Worker


@pytest.fixture(scope="module")
def workspace(db_url: str) -> str:
    return service_workspaces(db_url, "turns", ("a", "b"))["a"]


def turn_call(
    conn: psycopg.Connection[Any], executor: str, queues: list[str], wait_ms: int
) -> bool:
    row = conn.execute("select api.wait_turn(%s, %s, %s)", [executor, queues, wait_ms]).fetchone()
    assert row is not None
    return bool(row[0])


@contextlib.contextmanager
def session(db_url: str, workspace: str) -> Iterator[psycopg.Connection[Any]]:
    """A session of its own acting in the workspace as the service role (session-level claims,
    as a worker's listen connection could hold them)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "select set_config('request.jwt.claims', %s, false)",
            [f'{{"role": "service_role", "workspace_id": "{workspace}"}}'],
        )
        yield conn


def test_one_session_of_a_lane_holds_its_turn(db_url: str, workspace: str) -> None:
    with acting_in(db_url, workspace) as a:
        ex = str(a.register_executor("turn-sessions", ["tq-1", "tq-2"]))
    with session(db_url, workspace) as first, session(db_url, workspace) as second:
        assert turn_call(first, ex, ["tq-1", "tq-2"], 0)
        started = time.monotonic()
        assert not turn_call(second, ex, ["tq-2", "tq-1"], 300), "the same lane: the wait runs out"
        assert time.monotonic() - started >= 0.28, "after waiting its wait_ms"
        assert turn_call(second, ex, ["tq-1"], 0), "another set of names is another lane"

        # A session waiting gets the turn as soon as its holder gives it up.
        got: list[tuple[bool, float]] = []

        def wait() -> None:
            with session(db_url, workspace) as third:
                t = time.monotonic()
                got.append((turn_call(third, ex, ["tq-1", "tq-2"], 20000), time.monotonic() - t))

        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(0.5)
        assert not got, "it waits while the turn is held"
        assert first.execute("select api.end_turn()").fetchone() == (True,)
        waiter.join(10)
        assert got and got[0][0], "the waiting session got the turn"
        assert got[0][1] < 5, "at once, not at the end of its wait"

        # The holder's session ending gives the turn up too.
        assert turn_call(first, ex, ["tq-1", "tq-2"], 0), "free again: the waiter's session ended"
    with session(db_url, workspace) as fourth:
        assert turn_call(fourth, ex, ["tq-1", "tq-2"], 0), "its holder's session ended"


def test_lanes_are_per_workspace(db_url: str) -> None:
    spaces = service_workspaces(db_url, "turns-ws", ("a", "b"))
    executors = {}
    for name, ws in spaces.items():
        with acting_in(db_url, ws) as c:
            executors[name] = str(c.register_executor(f"turn-ws-{name}", ["same"]))
    with session(db_url, spaces["a"]) as a, session(db_url, spaces["b"]) as b:
        assert turn_call(a, executors["a"], ["same"], 0)
        assert turn_call(b, executors["b"], ["same"], 0), "the same queue name in another workspace"


def test_notifications_held_back_while_waiting_arrive_after(db_url: str, workspace: str) -> None:
    """What a worker waiting on its listen connection relies on: a wake-up sent while it waits
    is delivered once its wait returns."""
    with acting_in(db_url, workspace) as a:
        ex = str(a.register_executor("turn-held", ["tq-held"]))
        channel = a.whoami()["jobs_channel"]
        with session(db_url, workspace) as holder, session(db_url, workspace) as waiter:
            waiter.execute(psycopg.sql.SQL("listen {}").format(psycopg.sql.Identifier(channel)))
            assert turn_call(holder, ex, ["tq-held"], 0)
            done = threading.Event()

            def enqueue_soon() -> None:
                time.sleep(0.3)
                a.enqueue("tq-held", "t")
                done.set()

            threading.Thread(target=enqueue_soon).start()
            assert not turn_call(waiter, ex, ["tq-held"], 1000)
            assert done.is_set()
            notes = [n.payload for n in waiter.notifies(timeout=1, stop_after=1)]
            assert notes == ["tq-held"]


@contextlib.contextmanager
def fleet(
    db_url: str,
    workspace: str,
    queue: str,
    kind: str,
    n: int,
    concurrency: int,
    handler: Callable[[HandlerContext], object],
    poll: float = 3.0,
) -> Iterator[tuple[list[Worker | AsyncWorker], list[list[float]]]]:
    """n workers of the kind on one queue, each its own client, polling every ``poll`` seconds;
    the times of each one's claim calls. Returns once all listen and each has claimed once since."""
    with contextlib.ExitStack() as stack:
        workers: list[Worker | AsyncWorker] = []
        claims: list[list[float]] = []
        for i in range(n):
            client: Client = stack.enter_context(acting_in(db_url, workspace, max_size=4))
            made: list[float] = []
            claims.append(made)
            name = f"{queue}-{i}"
            w: Worker | AsyncWorker
            if kind == "thread":
                w = thread_worker = Worker(
                    client, [queue], concurrency, name=name, poll_seconds=poll
                )
                real = thread_worker._claim

                def counted(k: int, real: Any = real, made: list[float] = made) -> Any:
                    made.append(time.monotonic())
                    return real(k)

                setattr(thread_worker, "_claim", counted)  # noqa: B010 (a method, replaced)
                thread_worker.task("t")(handler)
                stack.enter_context(running(thread_worker))
            else:
                w = async_worker = AsyncWorker(
                    client, [queue], concurrency, name=name, poll_seconds=poll
                )
                areal = async_worker._claim

                async def acounted(
                    k: int, areal: Any = areal, made: list[float] = made
                ) -> list[ClaimedJob]:
                    made.append(time.monotonic())
                    return list(await areal(k))

                setattr(async_worker, "_claim", acounted)  # noqa: B010 (a method, replaced)
                async_worker.task("t")(handler)
                stack.enter_context(running(async_worker))
            workers.append(w)
        wait_listening(db_url, *(f"{queue}-{i}" for i in range(n)))
        wait_for(lambda: all(made for made in claims), 10, "a claim from each")
        yield workers, claims


def turn_holders(db_url: str, queue: str, granted: bool = True) -> list[str]:
    """The names of the workers of the queue whose listen connection holds a turn (granted) or
    waits for one (not granted)."""
    with psycopg.connect(db_url, autocommit=True) as c:
        return [
            str(r[0]).removeprefix("collab-listen ")
            for r in c.execute(
                "select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid"
                " where l.locktype = 'advisory' and l.granted = %s and l.objsubid = 1"
                " and a.application_name like %s",
                [granted, f"collab-listen {queue}-%"],
            ).fetchall()
        ]


@pytest.mark.parametrize("kind", ["thread", "asyncio"])
def test_of_four_idle_workers_one_claims_on_a_wake_up(
    db_url: str, workspace: str, kind: str
) -> None:
    """Four idle workers on one queue, ten jobs enqueued one at a time: one claim a job on its
    wake-up and one on its report (the worker that ran it), where each idle worker claimed on
    each wake-up before (five a job). Each waiting worker polls once per its 3 s wait."""
    queue = f"tq-herd-{kind}-{time.monotonic_ns()}"
    started: dict[int, float] = {}
    with fleet(
        db_url, workspace, queue, kind, 4, 2, lambda ctx: started.setdefault(ctx.job.id, 0.0)
    ) as (_, claims):
        wait_for(lambda: len(turn_holders(db_url, queue)) == 1, 10, "one worker holding the turn")
        with acting_in(db_url, workspace) as a:
            before = [len(c) for c in claims]
            at = time.monotonic()
            ids = []
            for _ in range(10):
                ids.append(a.enqueue(queue, "t").id)
                time.sleep(0.1)
            wait_for(lambda: all(i in started for i in ids), 10, "the ten jobs started")
            time.sleep(max(0.0, at + 2.0 - time.monotonic()))
            made = sum(
                len([t for t in c[b:] if t < at + 2.0]) for c, b in zip(claims, before, strict=True)
            )
        # 10 on the wake-ups, 10 on the reports, at most one poll from each worker
        assert made <= 26, f"{made} claims for 10 jobs (five a job without turns)"
        assert len(turn_holders(db_url, queue)) == 1


@pytest.mark.parametrize("kind", ["thread", "asyncio"])
def test_a_full_holder_hands_the_turn_on(db_url: str, workspace: str, kind: str) -> None:
    """Two workers of one slot each: the one holding the turn runs a job that waits; a second
    job's wake-up finds it with no room, so it gives the turn up, and the other worker gets it
    and claims the job at once, not at its poll (10 s)."""
    queue = f"tq-hand-{kind}-{time.monotonic_ns()}"
    release = threading.Event()
    started: dict[int, float] = {}

    def handler(ctx: HandlerContext) -> None:
        started.setdefault(ctx.job.id, time.monotonic())
        if ctx.payload.get("hold"):
            release.wait(20)

    try:
        with fleet(db_url, workspace, queue, kind, 2, 1, handler, poll=10):
            wait_for(
                lambda: len(turn_holders(db_url, queue)) == 1, 15, "one worker holding the turn"
            )
            holder = turn_holders(db_url, queue)[0]
            # The other worker waits for the turn once its listen thread sees its last claim
            # found nothing (up to a second later); until then it claims on every wake-up, and
            # could take the first job itself.
            wait_for(
                lambda: len(turn_holders(db_url, queue, granted=False)) == 1,
                15,
                "the other worker waiting for the turn",
            )
            with acting_in(db_url, workspace) as a:
                first = a.enqueue(queue, "t", {"hold": True}).id
                wait_for(lambda: first in started, 5, "the first job")
                assert turn_holders(db_url, queue) == [holder], (
                    "it keeps the turn while no job needs it"
                )
                at = time.monotonic()
                second = a.enqueue(queue, "t").id
                wait_for(lambda: second in started, 15, "the second job")
                assert started[second] - at < 1.5, "claimed at once by the worker given the turn"
                wait_for(
                    lambda: turn_holders(db_url, queue) not in ([], [holder]),
                    5,
                    "the other holds it",
                )
            # The fleet's stop drains running jobs: let the held one end first.
            release.set()
    finally:
        release.set()


@pytest.mark.parametrize("kind", ["thread", "asyncio"])
def test_a_waiting_worker_holds_no_snapshot_for_its_whole_poll(
    db_url: str, workspace: str, kind: str
) -> None:
    """Two idle workers polling every 6 s. The one waiting for the turn waits a second at a time
    (TURN_WAIT_SECONDS): a waiting call holds a snapshot, which held for the whole poll kept
    Postgres from removing any row that died meanwhile (its listen connection's wait was 6 s
    old at the end). It still polls once per 6 s, not once per wait."""
    queue = f"tq-snap-{kind}-{time.monotonic_ns()}"
    with fleet(db_url, workspace, queue, kind, 2, 1, lambda ctx: None, poll=6) as (_, claims):
        wait_for(
            lambda: len(turn_holders(db_url, queue, granted=False)) == 1,
            15,
            "one worker waiting for the turn",
        )
        waiter = turn_holders(db_url, queue, granted=False)[0]
        made = claims[int(waiter.rsplit("-", 1)[1])]
        before = len(made)
        ages: list[float] = []
        with psycopg.connect(db_url, autocommit=True) as c:
            end = time.monotonic() + 7.0
            while time.monotonic() < end:
                row = c.execute(
                    "select extract(epoch from clock_timestamp() - query_start)::float8"
                    " from pg_stat_activity where application_name = %s and state = 'active'"
                    " and backend_xmin is not null",
                    [f"collab-listen {waiter}"],
                ).fetchone()
                if row is not None:
                    ages.append(float(row[0]))
                time.sleep(0.05)
        assert ages, "the waiting worker's calls were seen"
        assert max(ages) < 1.5, f"a wait held its snapshot {max(ages):.1f} s"
        polls = len(made) - before
        assert 1 <= polls <= 2, f"{polls} polls in 7 s at a 6 s poll"
        assert turn_holders(db_url, queue, granted=False) == [waiter]


@pytest.mark.parametrize("kind", ["thread", "asyncio"])
def test_the_turn_passes_when_its_holder_stops(db_url: str, workspace: str, kind: str) -> None:
    queue = f"tq-stop-{kind}-{time.monotonic_ns()}"
    started: dict[int, float] = {}
    with fleet(
        db_url,
        workspace,
        queue,
        kind,
        2,
        2,
        lambda ctx: started.setdefault(ctx.job.id, time.monotonic()),
    ) as (workers, _):
        wait_for(lambda: len(turn_holders(db_url, queue)) == 1, 10, "one worker holding the turn")
        holder = turn_holders(db_url, queue)[0]
        next(w for w in workers if w.name == holder).stop()
        wait_for(
            lambda: turn_holders(db_url, queue) not in ([], [holder]), 10, "the other holds it"
        )
        with acting_in(db_url, workspace) as a:
            at = time.monotonic()
            job = a.enqueue(queue, "t").id
            wait_for(lambda: job in started, 10, "the job")
            assert started[job] - at < 1.5, "on its wake-up, not at a poll"


def test_a_worker_without_turns_claims_on_every_wake_up(db_url: str, workspace: str) -> None:
    """turns=False: the worker asks for no turn (as against a database before revision 0027)."""
    queue = f"tq-off-{time.monotonic_ns()}"
    with acting_in(db_url, workspace, max_size=4) as a:
        w = Worker(a, [queue], 2, name=f"{queue}-0", poll_seconds=3, turns=False)
        w.task("t")(lambda ctx: None)
        with running(w):
            wait_listening(db_url, f"{queue}-0")
            time.sleep(0.5)
            assert turn_holders(db_url, queue) == []
            assert w._turn == "free"


@pytest.mark.parametrize("kind", ["thread", "asyncio"])
def test_a_database_without_turns_leaves_the_worker_claiming_on_every_wake_up(
    own_db: str, kind: str
) -> None:
    """Against a database before revision 0027 (here: api.wait_turn dropped) the worker's first
    wait for a turn fails; it turns turns off and claims on wake-ups as before, not at its poll."""
    with psycopg.connect(own_db, autocommit=True) as c:
        c.execute("drop function api.wait_turn(uuid, text[], integer)")
    queue = f"tq-old-{kind}"
    started: dict[int, float] = {}
    ws = service_workspaces(own_db, "turns-old", ("a",))["a"]
    with fleet(
        own_db,
        ws,
        queue,
        kind,
        1,
        2,
        lambda ctx: started.setdefault(ctx.job.id, time.monotonic()),
        poll=10,
    ) as (workers, _):
        wait_for(lambda: not workers[0]._turns_ok, 10, "turns off")
        assert workers[0]._turn == "free"
        with acting_in(own_db, ws) as a:
            at = time.monotonic()
            job = a.enqueue(queue, "t").id
            wait_for(lambda: job in started, 10, "the job")
            assert started[job] - at < 1.5, "on its wake-up, not at its poll (10 s)"
