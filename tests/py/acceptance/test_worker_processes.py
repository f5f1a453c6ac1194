"""`collab worker` processes end to end: SIGKILL mid-job loses nothing; SIGTERM drains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from helpers import ALL_JOBS, wait_for

from collab import Client

HERE = Path(__file__).resolve().parent
GRACE_SECONDS = 10  # collab.Worker's default grace period, used by `collab worker`


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def start_worker(db_url: str, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(
        queue: str, name: str, concurrency: int, lease_seconds: int, use_asyncio: bool = False
    ) -> WorkerProcess:
        env = dict(os.environ)
        env["COLLAB_DATABASE_URL"] = db_url
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
        log = tmp_path / f"{name}.log"
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
                    "handlers_for_tests",
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
        worker = WorkerProcess(proc, log)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait(timeout=10)


def query(db_url: str, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(sql, params).fetchall()


def statuses(db_url: str, ids: list[int]) -> dict[int, tuple[str, int]]:
    rows = query(
        db_url, f"select id, status::text, attempt from {ALL_JOBS} where id = any(%s)", [ids]
    )
    return {job_id: (status, attempt) for job_id, status, attempt in rows}


def test_sigkill_mid_job_is_retried_after_the_lease_and_finishes(
    db_url: str, start_worker: Callable[..., WorkerProcess]
) -> None:
    queue = "acceptance-kill"
    with Client(db_url, max_size=1) as client:
        client.configure_queue(
            queue, backoff_base_seconds=0.1, backoff_max_seconds=0.1, backoff_jitter=0
        )
        job = client.enqueue(queue, "slow_first_attempt", {"n": 1})

    first = start_worker(queue, "kill-first", concurrency=2, lease_seconds=2)
    wait_for(
        lambda: statuses(db_url, [job.id])[job.id] == ("running", 1),
        60,
        f"the first worker to claim the job; log:\n{first.output()}",
    )
    first.proc.send_signal(signal.SIGKILL)
    assert first.proc.wait(timeout=10) == -signal.SIGKILL

    second = start_worker(queue, "kill-second", concurrency=2, lease_seconds=2)
    wait_for(
        lambda: statuses(db_url, [job.id])[job.id][0] in ("succeeded", "dead", "cancelled"),
        60,
        f"the job to finish; second worker log:\n{second.output()}",
    )

    rows = query(
        db_url,
        f"select j.status::text, j.attempt, j.result, e.name from {ALL_JOBS}"
        " join collab.executors e on e.id = j.executor_id where j.id = %s",
        [job.id],
    )
    assert rows == [("succeeded", 2, {"finished_on_attempt": 2}, "kill-second")]
    events = query(
        db_url,
        "select ev.type::text, ev.attempt, ex.name from collab.job_events ev"
        " left join collab.executors ex on ex.id = ev.executor_id"
        " where ev.job_id = %s order by ev.id",
        [job.id],
    )
    assert events == [
        ("enqueued", 0, None),
        ("claimed", 1, "kill-first"),
        ("lease_expired", 1, "kill-first"),
        ("claimed", 2, "kill-second"),
        ("succeeded", 2, "kill-second"),
    ]
    assert query(db_url, f"select count(*) from {ALL_JOBS} where queue = %s", [queue]) == [(1,)]


@pytest.mark.parametrize("use_asyncio", [False, True], ids=["Worker", "AsyncWorker"])
def test_sigterm_drains_running_jobs_and_claims_nothing_new(
    db_url: str, start_worker: Callable[..., WorkerProcess], use_asyncio: bool
) -> None:
    queue = f"acceptance-drain-{'async' if use_asyncio else 'threads'}"
    with Client(db_url, max_size=1) as client:
        running = [client.enqueue(queue, "sleep", {"seconds": 2, "n": n}).id for n in range(4)]
        worker = start_worker(
            queue, "drain", concurrency=4, lease_seconds=30, use_asyncio=use_asyncio
        )
        wait_for(
            lambda: all(s == ("running", 1) for s in statuses(db_url, running).values()),
            60,
            f"the worker to run 4 jobs; log:\n{worker.output()}",
        )
        # The worker is at full concurrency: these must stay queued through the shutdown.
        extra = [client.enqueue(queue, "sleep", {"seconds": 0, "n": n}).id for n in range(4)]
        worker.proc.send_signal(signal.SIGTERM)
        sent_at = time.monotonic()

    try:
        code = worker.proc.wait(timeout=GRACE_SECONDS + 10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker did not exit after SIGTERM; log:\n{worker.output()}")
    assert code == 0, worker.output()
    assert time.monotonic() - sent_at < GRACE_SECONDS + 5, "exited after the grace period"

    rows = query(
        db_url,
        f"select id, status::text, attempt, result from {ALL_JOBS} where id = any(%s)",
        [running],
    )
    assert sorted(rows) == [
        (job_id, "succeeded", 1, {"slept": 2, "attempt": 1}) for job_id in sorted(running)
    ], worker.output()
    assert statuses(db_url, extra) == {job_id: ("queued", 0) for job_id in extra}
    claimed_extra = query(
        db_url,
        "select count(*) from collab.job_events where job_id = any(%s) and type <> 'enqueued'",
        [extra],
    )
    assert claimed_extra == [(0,)]
