"""Where a wake-up's time goes, call by call, on an idle machine (section 4 of bench/run.py).

Usage: ``python bench/wake_cost.py [--rounds 4] [--jobs 200]``

Section 4 times a job from its enqueue call to its handler's start while jobs come at 50 a
second, so every backend and the worker sleep about 20 ms between jobs. This tool times the
two calls of that path apart, on the benchmark cluster (bench/run.py's, started if it is not
running), each system in a fresh database, the systems in rounds whose order turns by one
each round:

1. **Enqueue to notification**: a listening connection on the system's wake-up channel; a
   producer calls the system's enqueue at 50 a second and waits for the notification before
   the next call. Timed: from the call to the notification's arrival (the commit, its flush,
   the signal and the listener's read included), and from the call to its return.
   - Collab, ``api.enqueue``;
   - Collab's table without the api: ``insert into collab.jobs`` (its trigger writes the
     ``enqueued`` event and the wake-up), as the superuser;
   - the contract's bare writes (bench/run.py's ``CONTRACT_WAKE_ENQUEUE``);
   - graphile-worker's ``add_job`` (when bench/run.py can install the peer).
2. **A claim after 20 ms idle**: a producer enqueues one job, and a second connection, idle
   for those 20 ms, claims at once (up to 4, as the worker does), then completes the job.
   Timed: the claim call.
   - Collab, ``api.claim``;
   - a probe of Collab's tables: the pick, the UPDATE and the ``claimed`` event in one
     statement sent by the client (``ONE_STATEMENT_CLAIM``), without ``api.claim``'s checks
     (caller, executor, rate limit, input, paused and limited queues, lease expiry, the claim
     mark, the conflict counter) and outside PL/pgSQL: what Collab's tables cost a claim, not
     a claim that keeps the contract;
   - the contract's bare writes (``CONTRACT_WAKE_CLAIM``).

Prints each round's medians (ms), then the medians of the rounds and each over the bare
writes'. Its timings are not part of the test run; tests/py/integration/test_bench_wake_cost.py
checks what it runs (the probe writes what a claim writes). docs/bench.md, "The wake-up row,
call by call".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "thin_client"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R

PER_SECOND = 50.0
API_ENQUEUE = R.COLLAB_WAKE_ENQUEUE  # section 4's own
TABLE_ENQUEUE = (
    "insert into collab.jobs (workspace_id, queue, type, payload, run_at, max_attempts,"
    " created_at) values (collab.default_workspace_id(), 'wake', 'noop',"
    " jsonb_build_object('t', %s::float8), now(), 3, now())"
)
GRAPHILE_ENQUEUE = "select graphile_worker.add_job('noop', json_build_object('t', %s::float8))"
API_CLAIM = (
    "select id, lease_token from api.claim(executor_id => %s, queues => array['wake'],"
    " max_jobs => 4)"
)
# The probe: api.claim's pick, UPDATE and event statement, sent by the client with the
# executor's id as its one parameter; collab.statement_events tells the update trigger that
# the statement wrote its events (revision 0015), as api.claim does.
ONE_STATEMENT_CLAIM = """
with s as (select set_config('collab.statement_events', 'collab.jobs', true) as x),
picked as (
  select x.id from collab.jobs x, s
   where x.workspace_id = collab.default_workspace_id() and x.queue = 'wake'
     and x.status = 'queued' and x.run_at <= now()
   order by x.priority desc, x.run_at, x.id
   limit 4
   for update of x skip locked),
claimed as (
  update collab.jobs j set status = 'running', last_event = 'claimed', attempt = j.attempt + 1,
         executor_id = %s, lease_token = gen_random_uuid(), lease_seconds = 300,
         lease_expires_at = now() + interval '300 seconds', claimed_at = now()
    from picked p where j.id = p.id
  returning j.*),
written as (
  insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt,
                                 executor_id, data, created_at)
  select c.workspace_id, c.id, 'claimed', c.queue, c.type, c.attempt, c.executor_id,
         jsonb_build_object('lease_expires_at', c.lease_expires_at), now()
    from claimed c)
select c.id, c.lease_token from claimed c
"""
API_COMPLETE = "select api.complete(%s, %s, null)"


def to_notification(dsn: str, channel: str, enqueue: str, n: int) -> tuple[float, float]:
    """Median ms from an enqueue call to its notification at a listener, and to the call's
    return; n calls at PER_SECOND, each after the previous one's notification arrived."""
    arrived: list[float] = []

    def listen(ready: threading.Event, done: threading.Event) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("listen {}").format(sql.Identifier(channel)))
            ready.set()
            while not done.is_set():
                for _ in conn.notifies(timeout=0.2, stop_after=1):
                    arrived.append(time.perf_counter())

    called: list[float] = []
    returned: list[float] = []
    with R.on_thread("the listener", listen) as failed, psycopg.connect(dsn, autocommit=True) as c:
        for _ in range(5):  # untimed: prepared statements, caches
            c.execute(enqueue, [0.0])
            time.sleep(1 / PER_SECOND)
        R.wait_until(lambda: len(arrived) >= 5 or bool(failed), 2)
        time.sleep(0.2)
        arrived.clear()
        t0 = time.perf_counter()
        for i in range(n):
            R.sleep_until_due(t0, i, PER_SECOND)
            start = time.perf_counter()
            c.execute(enqueue, [time.time() * 1000])
            returned.append((time.perf_counter() - start) * 1000)
            called.append(start)
            R.wait_until(lambda want=i + 1: len(arrived) >= want or bool(failed), 2)
    if len(arrived) != n:
        raise RuntimeError(f"{len(arrived)} notifications for {n} enqueues on {channel}")
    waits = [(a - s) * 1000 for a, s in zip(arrived, called, strict=True)]
    return statistics.median(waits), statistics.median(returned)


def idle_claims(
    dsn: str,
    enqueue: str,
    claim: Callable[[psycopg.Connection[Any]], list[tuple[Any, ...]]],
    complete: Callable[[psycopg.Connection[Any], list[tuple[Any, ...]]], None],
    n: int,
) -> float:
    """Median ms of a claim call made at once after an enqueue, its connection idle for
    1/PER_SECOND before; each claimed job then completed. 20 untimed claims first."""
    took: list[float] = []
    with psycopg.connect(dsn, autocommit=True) as p, psycopg.connect(dsn, autocommit=True) as c:
        for i in range(n + 20):
            time.sleep(1 / PER_SECOND)
            p.execute(enqueue, [time.time() * 1000])
            start = time.perf_counter()
            rows = claim(c)
            spent = (time.perf_counter() - start) * 1000
            if len(rows) != 1:
                raise RuntimeError(f"a claim after one enqueue got {len(rows)} jobs")
            complete(c, rows)
            if i >= 20:
                took.append(spent)
    return statistics.median(took)


def collab_db(b: R.Bench) -> tuple[str, str, Any]:
    """A fresh Collab database: its url, its workers' wake-up channel (``api.whoami``'s) and a
    registered executor."""
    dsn = b.fresh("b_wake_cost", b.collab_template())
    with psycopg.connect(dsn, autocommit=True) as c:
        channel = c.execute("select api.whoami() ->> 'jobs_channel'").fetchone()
        ex = c.execute("select api.register_executor('wake-cost', array['wake'])").fetchone()
    assert channel is not None and ex is not None
    return dsn, channel[0], ex[0]


def notification_rows(b: R.Bench, graphile: bool, n: int) -> dict[str, Callable[[], Any]]:
    contract = b.template("tpl_contract", R.build_contract)

    def collab(enqueue: str) -> tuple[float, float]:
        dsn, channel, _ = collab_db(b)
        return to_notification(dsn, channel, enqueue, n)

    rows: dict[str, Callable[[], Any]] = {
        "collab api.enqueue": lambda: collab(API_ENQUEUE),
        "collab insert into collab.jobs": lambda: collab(TABLE_ENQUEUE),
        "contract's bare writes": lambda: to_notification(
            b.fresh("b_wake_cost", contract), "contract_jobs", R.CONTRACT_WAKE_ENQUEUE, n
        ),
    }
    if graphile:
        gw = b.template("tpl_graphile", R.build_graphile)
        rows["graphile-worker add_job"] = lambda: to_notification(
            b.fresh("b_wake_cost", gw), "jobs:insert", GRAPHILE_ENQUEUE, n
        )
    return rows


def claim_rows(b: R.Bench, n: int) -> dict[str, Callable[[], Any]]:
    contract = b.template("tpl_contract", R.build_contract)

    def collab(probe: bool) -> float:
        dsn, _, ex = collab_db(b)

        def claim(c: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
            return c.execute(ONE_STATEMENT_CLAIM if probe else API_CLAIM, [ex]).fetchall()

        def complete(c: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> None:
            for job_id, token in rows:
                c.execute(API_COMPLETE, [job_id, token])

        return idle_claims(dsn, API_ENQUEUE, claim, complete, n)

    def bare() -> float:
        def claim(c: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
            return c.execute(R.CONTRACT_WAKE_CLAIM).fetchall()

        def complete(c: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> None:
            c.execute(R.CONTRACT_WAKE_COMPLETE, [[r[0] for r in rows], [r[1] for r in rows]])

        return idle_claims(
            b.fresh("b_wake_cost", contract), R.CONTRACT_WAKE_ENQUEUE, claim, complete, n
        )

    return {
        "collab api.claim": lambda: collab(False),
        "collab tables, one statement (probe)": lambda: collab(True),
        "contract's bare writes": bare,
    }


def in_rounds(rows: dict[str, Callable[[], Any]], rounds: int, show: Callable[[Any], str]) -> Any:
    took = R.interleaved(rows, rounds)
    for r in range(rounds):
        R.say(f"  round {r + 1}: " + ", ".join(f"{k} {show(v[r])}" for k, v in took.items()))
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=200, help="timed calls a run")
    args = ap.parse_args()
    b = R.Bench(R.Sizes(False))
    b.start()
    graphile = bool(R.ensure_node_peer(b))

    R.say(f"1. enqueue call to notification, {PER_SECOND:.0f}/s (ms, medians of {args.jobs}):")
    took = in_rounds(
        notification_rows(b, graphile, args.jobs),
        args.rounds,
        lambda v: f"{v[0]:.2f} (returns {v[1]:.2f})",
    )
    bare = statistics.median(v[0] for v in took["contract's bare writes"])
    for name, values in took.items():
        m = statistics.median(v[0] for v in values)
        r = statistics.median(v[1] for v in values)
        R.say(f"  {name:38} {m:5.2f} ms ({m / bare:.2f}x the bare writes); returns {r:5.2f}")

    R.say(f"2. a claim after {1000 / PER_SECOND:.0f} ms idle (ms, medians of {args.jobs}):")
    took = in_rounds(claim_rows(b, args.jobs), args.rounds, lambda v: f"{v:.2f}")
    bare = statistics.median(took["contract's bare writes"])
    for name, values in took.items():
        m = statistics.median(values)
        R.say(f"  {name:38} {m:5.2f} ms ({m / bare:.2f}x the bare writes)")


if __name__ == "__main__":
    main()
