"""What idle workers cost a wake-up: every one of them claims on every notification, unless
they take turns.

Usage: ``python bench/herd.py [--workers 1,4,16,32] [--rounds 2] [--jobs 300]``

A job's notification goes to every connection listening on its channel: Collab's workers of a
workspace listen on ``collab_jobs:<workspace id>``, and each one with a free slot for the
job's queue claims when it hears it (docs/architecture.md, the workers' wake-ups). With k idle
workers, one job costs k claims, of which k - 1 find nothing. This tool measures that, on the
benchmark cluster (bench/run.py's, started if it is not running), each trial in a fresh
database:

- k consumers, each a thread with one connection and its own executor, listen on the channel
  and, on each notification, make one claim of one job and complete what it got: what a
  worker with a free slot does at low load, without a worker's other steps;
- a producer enqueues one job at a time at 50 a second (section 4's pace), n timed jobs after
  5 untimed;
- for Collab (``api.enqueue``, ``api.claim``, ``api.complete``); for Collab with turns (each
  consumer waits for its lane's turn on its listen connection, ``api.wait_turn`` in waits of
  200 ms, and only the one holding it claims on a notification, as the workers do since
  revision 0027); and for the contract's bare writes (bench/run.py's ``CONTRACT_WAKE_*``: the
  same broadcast, the cheapest claim the contract allows), k and the systems in rounds whose
  order turns by one each round.

Prints per trial, then the medians of the rounds: wake-up p50 and p99 (ms from the enqueue
call to the claim's return with the job), claims a job, and CPU a job: the database's (the
CPU time of every backend of the trial's database, the producer's included, from
/proc/<pid>/schedstat: bench/run.py's process_cpu) and this process's (the consumers' and the producer's client work).
The consumers share this machine's two cores with the database, so the latencies overstate
what a fleet on other machines would see; the claims a job and the database's CPU a job do
not. tests/py/integration/test_bench_herd.py
checks what it runs. What the figures say: docs/scaling.md, "Many idle workers".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "thin_client"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R

PER_SECOND = 50.0
COLLAB_CLAIM = (
    "select id, lease_token, (payload ->> 't')::float8 from api.claim(executor_id => %s,"
    " queues => array['wake'], max_jobs => 1)"
)
COLLAB_COMPLETE = "select api.complete(%s, %s, null)"
COLLAB_TURN = "select api.wait_turn(executor_id => %s, queues => array['wake'], wait_ms => %s)"


Claimed = list[tuple[Any, Any, float]]  # (id, lease token, the enqueue's time in ms) a job


class System(NamedTuple):
    """How one system enqueues, claims and completes; ``claim`` gets the consumer's number.
    With ``turn`` (the consumer's connection and number: whether it holds its lane's turn,
    having waited for it up to TURN_WAIT_MS), only the consumer holding the turn claims on a
    notification, as Collab's workers do (api.wait_turn, revision 0027)."""

    channel: str
    enqueue: str
    claim: Callable[[psycopg.Connection[Any], int], Claimed]
    complete: Callable[[psycopg.Connection[Any], Claimed], None]
    turn: Callable[[psycopg.Connection[Any], int], bool] | None = None


TURN_WAIT_MS = 200


def collab_system(dsn: str, k: int, turns: bool = False) -> System:
    """Collab in dsn, with k executors registered: one for each consumer, as in a fleet; with
    turns, the consumers wait for their lane's turn on their listen connections."""
    with psycopg.connect(dsn, autocommit=True) as c:
        found = c.execute("select api.whoami() ->> 'jobs_channel'").fetchone()
        executors = []
        for i in range(k):
            ex = c.execute("select api.register_executor(%s, array['wake'])", [f"herd-{i}"])
            executors.append(ex.fetchone()[0])  # type: ignore[index]
    assert found is not None

    def claim(conn: psycopg.Connection[Any], i: int) -> Claimed:
        return conn.execute(COLLAB_CLAIM, [executors[i]]).fetchall()

    def turn(conn: psycopg.Connection[Any], i: int) -> bool:
        row = conn.execute(COLLAB_TURN, [executors[i], TURN_WAIT_MS]).fetchone()
        return bool(row and row[0])

    def complete(conn: psycopg.Connection[Any], rows: Claimed) -> None:
        for job_id, token, _ in rows:
            conn.execute(COLLAB_COMPLETE, [job_id, token])

    return System(found[0], R.COLLAB_WAKE_ENQUEUE, claim, complete, turn if turns else None)


def contract_system() -> System:
    """The contract's bare writes (a database built by bench/run.py's build_contract)."""

    def claim(conn: psycopg.Connection[Any], i: int) -> Claimed:
        return conn.execute(R.CONTRACT_WAKE_CLAIM).fetchall()

    def complete(conn: psycopg.Connection[Any], rows: Claimed) -> None:
        conn.execute(R.CONTRACT_WAKE_COMPLETE, [[r[0] for r in rows], [r[1] for r in rows]])

    return System("contract_jobs", R.CONTRACT_WAKE_ENQUEUE, claim, complete)


def idle_workers(dsn: str, system: System, k: int, n: int) -> dict[str, float]:
    """k consumers on system's channel in dsn, each claiming once per notification; n jobs
    enqueued one at a time at PER_SECOND after 5 untimed. Returns the wake-ups' p50 and p99
    (ms), the claim calls a job, and CPU µs a job: the database's (every backend of dsn's,
    the producer's included) and this process's (the consumers' and the producer's)."""
    done = threading.Event()
    ready = threading.Barrier(k + 1, timeout=30)
    lock = threading.Lock()
    claims = [0] * k
    empty = [0] * k  # the claims that found nothing, for a failure's message
    woke: list[float] = []
    failed: list[BaseException] = []

    def lost(enqueued: int) -> RuntimeError:
        """A trial that lost a job, with its consumers' claims: a consumer that claimed once per
        notification and found nothing once (a claim that missed a committed job) reads apart
        from one that claimed once less (a notification missed)."""
        return RuntimeError(
            f"{len(woke)} jobs claimed of {enqueued} enqueued on {system.channel}"
            f" (claims by consumer {claims}, of which found nothing {empty})"
        )

    def consume(i: int) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("listen {}").format(sql.Identifier(system.channel)))
                ready.wait()
                leader = False
                owed = 0  # notifications heard and not yet claimed for: one claim each
                while not done.is_set():
                    if not owed and system.turn is not None and not leader:
                        # The notifications held back while it waited come after the call,
                        # all at once: the consumer that got the turn claims once for each
                        # (claiming once, it left a job for each other one unclaimed until
                        # a later job's notification); one without the turn, for none.
                        leader = system.turn(conn, i)
                        heard = len(list(conn.notifies(timeout=0.01)))
                        owed = heard if leader else 0
                        continue
                    if not owed:
                        # notifies() holds the connection while it iterates: claim after it
                        owed = len(list(conn.notifies(timeout=0.2, stop_after=1)))
                        if not owed:
                            continue
                    owed -= 1
                    rows = system.claim(conn, i)
                    at = time.time() * 1000
                    claims[i] += 1
                    if not rows:
                        empty[i] += 1
                        continue
                    system.complete(conn, rows)
                    with lock:
                        woke.extend(at - t for _, _, t in rows)
        except BaseException as e:  # reported by the producer, which would wait otherwise
            failed.append(e)
            ready.abort()

    def settled() -> None:
        """Wait until no consumer has claimed for 0.2 s: the last job's empty claims."""
        seen = -1
        while seen != sum(claims) and not failed:
            seen = sum(claims)
            time.sleep(0.2)

    threads = [threading.Thread(target=consume, args=(i,), daemon=True) for i in range(k)]
    for t in threads:
        t.start()
    try:
        ready.wait()
        with psycopg.connect(dsn, autocommit=True) as producer:
            R.enqueue_paced(producer, system.enqueue, 5, PER_SECOND)
            R.wait_until(lambda: len(woke) >= 5 or bool(failed), 2)
            if len(woke) < 5 and not failed:
                raise lost(5)
            settled()
            with lock:
                woke.clear()
                claims[:] = [0] * k
                empty[:] = [0] * k
            backends = [
                r[0]
                for r in producer.execute(
                    "select pid from pg_stat_activity where datname = current_database()"
                )
            ]
            db0, client0 = R.cpu_by_pid({"db": backends})["db"], time.process_time()
            R.enqueue_paced(producer, system.enqueue, n, PER_SECOND)
            R.wait_until(lambda: len(woke) >= n or bool(failed), 10)
            settled()
            db = R.cpu_spent(db0, R.cpu_by_pid({"db": backends})["db"])
            client = time.process_time() - client0
    except threading.BrokenBarrierError:  # a consumer failed before it listened
        if not failed:
            raise
    finally:
        done.set()
        for t in threads:
            t.join(5)
    if failed:
        raise RuntimeError(f"a consumer failed: {failed[0]!r}")
    if len(woke) != n:
        raise lost(n)
    return {
        "p50": R.pct(woke, 50),  # as section 4 of bench/run.py reads its wake-ups
        "p99": R.pct(woke, 99),
        "claims_per_job": sum(claims) / n,
        "database_us_per_job": 1e6 * db / n,
        "client_us_per_job": 1e6 * client / n,
    }


FIGURES = ("p50", "p99", "claims_per_job", "database_us_per_job", "client_us_per_job")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,4,16,32", help="idle workers a trial, comma-separated")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=300, help="timed jobs a trial")
    args = ap.parse_args()
    ks = [int(k) for k in args.workers.split(",")]
    b = R.Bench(R.Sizes(False))
    b.start()
    collab, contract = b.collab_template(), b.template("tpl_contract", R.build_contract)

    def on_collab(k: int) -> dict[str, float]:
        dsn = b.fresh("b_herd", collab)
        return idle_workers(dsn, collab_system(dsn, k), k, args.jobs)

    def on_turns(k: int) -> dict[str, float]:
        dsn = b.fresh("b_herd", collab)
        return idle_workers(dsn, collab_system(dsn, k, turns=True), k, args.jobs)

    def on_contract(k: int) -> dict[str, float]:
        return idle_workers(b.fresh("b_herd", contract), contract_system(), k, args.jobs)

    rows: dict[str, Callable[[], dict[str, float]]] = {}
    systems = (
        ("collab", on_collab),
        ("collab, turns", on_turns),
        ("contract's bare writes", on_contract),
    )
    for name, trial in systems:
        for k in ks:
            rows[f"{name}, {k} idle"] = lambda trial=trial, k=k: trial(k)
    R.say(f"{args.jobs} jobs one at a time at {PER_SECOND:.0f}/s to k idle consumers")
    took = R.interleaved(rows, args.rounds)
    for r in range(args.rounds):
        for name, values in took.items():
            v = values[r]
            R.say(
                f"  round {r + 1}: {name:34} p50 {v['p50']:6.2f} p99 {v['p99']:6.2f} ms,"
                f" {v['claims_per_job']:5.2f} claims/job, {v['database_us_per_job']:6.0f} µs"
                f" database ({v['client_us_per_job']:6.0f} here) a job"
            )
    R.say("medians of the rounds (ms, claims, µs a job; x: over the same system's first k):")
    first: dict[str, dict[str, float]] = {}
    for name, values in took.items():
        m = {f: statistics.median(v[f] for v in values) for f in FIGURES}
        base = first.setdefault(name.rsplit(",", 1)[0], m)
        x = {f: m[f] / base[f] for f in ("p50", "p99", "database_us_per_job")}
        R.say(
            f"  {name:34} p50 {m['p50']:6.2f} ({x['p50']:4.2f}x) p99 {m['p99']:6.2f}"
            f" ({x['p99']:4.2f}x), {m['claims_per_job']:5.2f} claims/job, database"
            f" {m['database_us_per_job']:6.0f} µs ({x['database_us_per_job']:4.2f}x),"
            f" here {m['client_us_per_job']:6.0f} µs"
        )


if __name__ == "__main__":
    main()
