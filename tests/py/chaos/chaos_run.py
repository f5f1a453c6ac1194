"""The chaos run: worker processes drain jobs while a driver kills them and restarts Postgres.

``run(dsn, ...)`` enqueues ``jobs`` jobs of type ``chaos_effect`` (chaos_handlers.py), starts
``workers`` ``collab worker`` processes with a short lease, and while they drain the queue it
SIGKILLs a random worker every ``kill_every`` seconds and starts a new one, and restarts
Postgres (``restart``, an immediate shutdown: a crash for every session) when the run passes
each fraction of ``restart_at``. Then ``verify`` checks what the issue promises:

- every job is terminal and none is lost (each enqueued ``n`` is a job, exactly once);
- every succeeded job has exactly one ``succeeded`` event, and its result is the one of the
  attempt whose side effect is recorded;
- a side effect ran more than once only for a job with an attempt that did not succeed
  because its worker was killed mid-run, its lease was lost (expired or released) or its
  report failed; each duplicate is counted under its cause;
- ``job_events`` agrees with ``jobs`` (last state event = status; one ``claimed`` per attempt);
- ``api.check_invariants()`` is empty.

``python tests/py/chaos/chaos_run.py --jobs 5000 --runs 3`` (``make chaos``) runs it on a
cluster of its own under ``.collab/chaos-pg`` (free port), so a restart never disturbs a test
run on the shared test cluster, and prints the counts of each run.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from collab import Client

# Every job wherever it lives (as tests/py/helpers.ALL_JOBS; this script also runs on its own).
ALL_JOBS = "(select * from collab.jobs union all select * from collab.job_history) j"

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
QUEUE = "chaos"
TERMINAL = ("succeeded", "dead", "cancelled")
# The job status each state event leaves the job in (progress/cancel_requested change nothing).
STATUS_AFTER = {
    "enqueued": "queued",
    "claimed": "running",
    "succeeded": "succeeded",
    "retry_scheduled": "queued",
    "lease_expired": "queued",
    "lease_released": "queued",
    "dead": "dead",
    "cancelled": "cancelled",
    "requeued": "queued",
}


@dataclass
class Counts:
    jobs: int = 0
    succeeded: int = 0
    dead: int = 0
    kills: int = 0
    restarts: int = 0
    workers_started: int = 0
    asyncio_workers: int = 0
    unexpected_exits: int = 0
    side_effects: int = 0
    duplicates: int = 0
    duplicates_after_kill: int = 0
    duplicates_after_lease_loss: int = 0
    duplicates_after_failed_report: int = 0
    lost: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"jobs={self.jobs} succeeded={self.succeeded} dead={self.dead} kills={self.kills} "
            f"restarts={self.restarts} workers_started={self.workers_started} "
            f"(asyncio {self.asyncio_workers}) "
            f"side_effects={self.side_effects} duplicates={self.duplicates} "
            f"(killed mid-run {self.duplicates_after_kill}, lease lost "
            f"{self.duplicates_after_lease_loss}, report failed "
            f"{self.duplicates_after_failed_report}) lost={self.lost} "
            f"seconds={self.seconds:.1f}"
        )


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path, name: str) -> None:
        self.proc = proc
        self.log = log
        self.name = name
        self.killed = False

    def started(self) -> bool:
        """The worker logged its start (its first lines: the log only grows)."""
        try:
            with self.log.open("rb") as f:
                return b"worker started" in f.read(20000)
        except OSError:
            return False

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def prepare(dsn: str) -> None:
    """The side-effects table (not part of Collab: the test's own)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "create table if not exists public.chaos_side_effects ("
            " id bigint generated always as identity primary key,"
            " job_id bigint not null, attempt integer not null, pid integer not null,"
            " created_at timestamptz not null default clock_timestamp())"
        )


def enqueue(dsn: str, jobs: int, max_sleep: float) -> None:
    with Client(dsn, max_size=1) as client:
        client.configure_queue(
            QUEUE,
            max_attempts=25,
            backoff_base_seconds=0.05,
            backoff_max_seconds=0.2,
            backoff_jitter=0,
        )
        for start in range(0, jobs, 1000):
            client.enqueue_batch(
                [
                    {
                        "queue": QUEUE,
                        "type": "chaos_effect",
                        "payload": {"n": n, "max_sleep": max_sleep},
                    }
                    for n in range(start, min(jobs, start + 1000))
                ]
            )


def start_worker(
    dsn: str,
    logdir: Path,
    name: str,
    concurrency: int,
    lease_seconds: int,
    queue: str = QUEUE,
    use_asyncio: bool = False,
) -> WorkerProcess:
    """A ``collab worker`` process (``--asyncio``: collab.AsyncWorker) logging to logdir."""
    env = dict(os.environ)
    env["COLLAB_DATABASE_URL"] = dsn
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
    log = logdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "collab.cli",
                "worker",
                "--queue",
                queue,
                "--concurrency",
                str(concurrency),
                "--import",
                "chaos_handlers",
                "--name",
                name,
                "--lease-seconds",
                str(lease_seconds),
                "--log-format",
                "json",
                *(["--asyncio"] if use_asyncio else []),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return WorkerProcess(proc, log, name)


def _open_jobs(dsn: str) -> int | None:
    """Jobs not yet terminal, or None while the database is unreachable (restarting)."""
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            row = conn.execute(
                f"select count(*) from {ALL_JOBS} where queue = %s and status <> all(%s::collab.job_status[])",
                [QUEUE, list(TERMINAL)],
            ).fetchone()
            return int(row[0]) if row else None
    except psycopg.OperationalError:
        return None


def run(
    dsn: str,
    jobs: int,
    *,
    logdir: Path,
    restart: Callable[[], None] | None,
    workers: int = 4,
    concurrency: int = 4,
    lease_seconds: int = 3,
    max_sleep: float = 0.2,
    kill_every: tuple[float, float] = (1.0, 2.5),
    restart_at: tuple[float, ...] = (0.25, 0.6),
    timeout: float = 600.0,
    seed: int = 8,
) -> Counts:
    """Drain ``jobs`` jobs under kills and restarts; return the counts (see ``verify``)."""
    rng = random.Random(seed)
    logdir.mkdir(parents=True, exist_ok=True)
    prepare(dsn)
    enqueue(dsn, jobs, max_sleep)
    counts = Counts(jobs=jobs)
    started = time.monotonic()
    pool: list[WorkerProcess] = []
    every: list[WorkerProcess] = []
    killed_pids: set[int] = set()

    def spawn() -> None:
        # Every other worker is an AsyncWorker: both workers drain the same jobs under the
        # same faults.
        use_asyncio = counts.workers_started % 2 == 1
        w = start_worker(
            dsn,
            logdir,
            f"chaos-w{counts.workers_started}",
            concurrency,
            lease_seconds,
            use_asyncio=use_asyncio,
        )
        counts.workers_started += 1
        counts.asyncio_workers += use_asyncio
        pool.append(w)
        every.append(w)

    for _ in range(workers):
        spawn()
    restarts_due = sorted(restart_at) if restart is not None else []
    next_kill = time.monotonic() + rng.uniform(*kill_every)
    last_open = jobs
    try:
        while True:
            now = time.monotonic()
            if now - started > timeout:
                counts.problems.append(f"timed out after {timeout}s with {last_open} jobs open")
                break
            open_jobs = _open_jobs(dsn)
            if open_jobs is not None:
                last_open = open_jobs
                if open_jobs == 0 and not restarts_due:
                    break
            # A worker that exits on its own failed the run (it must survive every fault).
            for w in list(pool):
                if w.proc.poll() is not None:
                    counts.unexpected_exits += 1
                    counts.problems.append(
                        f"worker {w.name} exited by itself ({w.proc.returncode}):\n{w.tail()}"
                    )
                    pool.remove(w)
                    spawn()
            done = 1 - last_open / jobs
            if restarts_due and (done >= restarts_due[0] or last_open == 0):
                restarts_due.pop(0)
                assert restart is not None
                restart()
                counts.restarts += 1
            if now >= next_kill and last_open > 0:
                victim = rng.choice(pool)
                victim.proc.send_signal(signal.SIGKILL)
                victim.proc.wait(timeout=30)
                victim.killed = True
                killed_pids.add(victim.proc.pid)
                pool.remove(victim)
                counts.kills += 1
                spawn()
                next_kill = now + rng.uniform(*kill_every)
            time.sleep(0.2)
    finally:
        # A worker started a moment ago may not have installed its SIGTERM handler yet: let
        # each one come up (this also checks every replacement really started) first.
        deadline = time.monotonic() + 30
        for w in pool:
            while w.proc.poll() is None and not w.started() and time.monotonic() < deadline:
                time.sleep(0.1)
            if not w.started():
                counts.problems.append(f"worker {w.name} never started:\n{w.tail()}")
        for w in pool:
            if w.proc.poll() is None:
                w.proc.send_signal(signal.SIGTERM)
        for w in pool:
            try:
                w.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait(timeout=10)
                counts.problems.append(f"worker {w.name} ignored SIGTERM:\n{w.tail()}")
            else:
                if w.proc.returncode != 0:
                    counts.problems.append(
                        f"worker {w.name} exited {w.proc.returncode} on SIGTERM:\n{w.tail()}"
                    )
    counts.seconds = time.monotonic() - started
    verify(dsn, counts, killed_pids)
    return counts


def _all(conn: psycopg.Connection[Any], sql: str, params: list[Any] | None = None) -> list[Any]:
    return conn.execute(sql, params or []).fetchall()


def verify(dsn: str, counts: Counts, killed_pids: set[int]) -> None:
    """Fill in the counts and append every broken promise to ``counts.problems``."""
    problems = counts.problems
    with psycopg.connect(dsn, autocommit=True) as conn:
        # None lost: every n enqueued is exactly one job.
        ((present, distinct),) = _all(
            conn,
            f"select count(*), count(distinct (payload->>'n')::int) from {ALL_JOBS} where queue = %s",
            [QUEUE],
        )
        counts.lost = counts.jobs - int(distinct)
        if counts.lost or present != counts.jobs:
            problems.append(f"{present} jobs ({distinct} distinct) for {counts.jobs} enqueued")
        by_status = dict(
            _all(
                conn,
                f"select status::text, count(*) from {ALL_JOBS} where queue = %s group by 1",
                [QUEUE],
            )
        )
        counts.succeeded = int(by_status.get("succeeded", 0))
        counts.dead = int(by_status.get("dead", 0))
        open_jobs = {s: n for s, n in by_status.items() if s not in TERMINAL}
        if open_jobs:
            problems.append(f"jobs not terminal: {open_jobs}")

        # Exactly one succeeded event per succeeded job, none for the others.
        bad = _all(
            conn,
            "select j.id, j.status::text, count(e.id) filter (where e.type = 'succeeded')"
            f" from {ALL_JOBS} left join collab.job_events e on e.job_id = j.id"
            " where j.queue = %s group by j.id, j.status"
            " having count(e.id) filter (where e.type = 'succeeded')"
            "   <> (j.status = 'succeeded')::int limit 10",
            [QUEUE],
        )
        if bad:
            problems.append(f"succeeded events disagree with jobs: {bad}")

        # The accepted result is the one of the attempt whose side effect exists.
        bad = _all(
            conn,
            f"select j.id, j.attempt, j.result from {ALL_JOBS} where j.queue = %s"
            " and j.status = 'succeeded' and not exists (select 1 from public.chaos_side_effects s"
            "  where s.job_id = j.id and s.attempt = j.attempt"
            "    and s.pid = (j.result->>'pid')::int and (j.result->>'attempt')::int = j.attempt)"
            " limit 10",
            [QUEUE],
        )
        if bad:
            problems.append(f"succeeded jobs without the side effect of their result: {bad}")

        # job_events agrees with jobs: the last state event gives the status, one claim per
        # attempt, and every event belongs to a job.
        bad = _all(
            conn,
            f"select j.id, j.status::text, j.attempt, last.type::text, claims.n from {ALL_JOBS}"
            " cross join lateral (select e.type from collab.job_events e where e.job_id = j.id"
            "   and e.type = any(%s::collab.job_event_type[]) order by e.id desc limit 1) last"
            " cross join lateral (select count(*) as n from collab.job_events e"
            "   where e.job_id = j.id and e.type = 'claimed') claims"
            " where j.queue = %s",
            [list(STATUS_AFTER), QUEUE],
        )
        for job_id, status, attempt, last, claims in bad:
            if STATUS_AFTER[last] != status or claims != attempt:
                problems.append(
                    f"job {job_id}: status {status} attempt {attempt}, last event {last},"
                    f" {claims} claims"
                )
                break

        # Side effects: several only where an attempt did not succeed, each with its cause.
        counts.side_effects = int(
            _all(conn, "select count(*) from public.chaos_side_effects")[0][0]
        )
        rows = _all(
            conn,
            "select s.job_id, s.attempt, s.pid, j.status::text, j.attempt,"
            " (select string_agg(e.type::text, ',' order by e.id) from collab.job_events e"
            "   where e.job_id = s.job_id and e.attempt = s.attempt and e.type <> 'claimed')"
            f" from public.chaos_side_effects s join {ALL_JOBS} on j.id = s.job_id"
            " where s.job_id in (select job_id from public.chaos_side_effects"
            "   group by job_id having count(*) > 1)"
            " order by s.job_id, s.attempt",
        )
        per_attempt: dict[tuple[int, int], int] = {}
        for job_id, attempt, pid, status, final_attempt, ends in rows:
            per_attempt[(job_id, attempt)] = per_attempt.get((job_id, attempt), 0) + 1
            if status == "succeeded" and attempt == final_attempt:
                continue  # the accepted one
            counts.duplicates += 1
            ends = ends or ""
            if pid in killed_pids:
                counts.duplicates_after_kill += 1
            elif "lease_expired" in ends or "lease_released" in ends:
                counts.duplicates_after_lease_loss += 1
            elif "retry_scheduled" in ends or "dead" in ends:
                counts.duplicates_after_failed_report += 1
            else:
                problems.append(
                    f"job {job_id}: side effect of attempt {attempt} (pid {pid}) ran again"
                    f" although that attempt ended with {ends or 'nothing'}"
                )
        twice = [key for key, n in per_attempt.items() if n > 1]
        if twice:
            problems.append(f"one attempt ran its side effect twice: {twice[:10]}")

        violations = _all(conn, "select * from api.check_invariants()")
        if violations:
            problems.append(f"check_invariants: {violations[:10]}")


# -- make chaos ------------------------------------------------------------------------------
def restart_cluster(cluster: Any) -> None:
    """``pg_ctl restart -m immediate``: every session is cut as in a crash."""
    cluster.restart("immediate")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--lease-seconds", type=int, default=3)
    parser.add_argument("--max-sleep", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--pg-dir", type=Path, default=REPO / ".collab" / "chaos-pg")
    args = parser.parse_args(argv)

    from collab import embedded, migrate

    cluster = embedded.EmbeddedPostgres(base=args.pg_dir, port="auto")
    cluster.start()
    failed = 0
    try:
        for n in range(1, args.runs + 1):
            name = f"collab_chaos_{os.getpid()}_{n}"
            server = cluster.url()
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'drop database if exists "{name}" with (force)')
                conn.execute(f'create database "{name}"')
            dsn = cluster.url(name)
            migrate.up(dsn)
            seed = args.seed if args.seed is not None else random.randrange(1 << 30)
            counts = run(
                dsn,
                args.jobs,
                logdir=REPO / ".collab" / "tmp" / f"chaos-logs-{os.getpid()}-{n}",
                restart=lambda: restart_cluster(cluster),
                workers=args.workers,
                concurrency=args.concurrency,
                lease_seconds=args.lease_seconds,
                max_sleep=args.max_sleep,
                seed=seed,
            )
            verdict = "FAILED" if counts.problems else "ok"
            print(f"chaos run {n}/{args.runs} (seed {seed}): {counts.line()} -> {verdict}")
            for problem in counts.problems:
                print("  problem:", problem)
            if counts.problems:
                failed += 1
            else:
                with psycopg.connect(cluster.url(), autocommit=True) as conn:
                    conn.execute(f'drop database if exists "{name}" with (force)')
            sys.stdout.flush()
    finally:
        cluster.stop()
    print(f"chaos: {args.runs - failed}/{args.runs} runs passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
