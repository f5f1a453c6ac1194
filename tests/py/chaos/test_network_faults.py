"""Network-like faults and clocks: a connection cut after complete committed, a worker paused
past its lease, and a client whose clock is wrong.

What the clock tests prove, and what they do not: no ``api`` function takes a client
timestamp that a lease or a backoff depends on (the catalog says so, for every function, so a
new one is checked too); a ``run_at`` in the past is clamped to the database clock; a lease,
its extension and a backoff are computed from the database's transaction time. They do not
run a worker process under a faked system clock (no time-faking tool is available here);
the worker never sends a time, so its clock has nothing to reach.
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from chaos_run import WorkerProcess, prepare, start_worker
from helpers import ALL_JOBS, wait_for

from collab import Client, LeaseLost, Worker
from collab.client import Completion

FINAL = ("succeeded", "dead", "cancelled")


def one(db_url: str, sql: str, params: Sequence[Any] = ()) -> Any:
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(sql, list(params)).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def events(db_url: str, job_id: int) -> list[tuple[str, int]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select type::text, attempt from collab.job_events where job_id = %s order by id",
            [job_id],
        ).fetchall()
    return [(t, a) for t, a in rows]


@pytest.fixture
def client(db_url: str) -> Iterator[Client]:
    with Client(db_url, max_size=2) as c:
        yield c


def claim_one(client: Client, queue: str, lease_seconds: int = 30) -> tuple[int, UUID]:
    executor = client.register_executor(f"faults-{queue}", [queue])
    (job,) = client.claim(executor, [queue], 1, lease_seconds)
    return job.id, job.lease_token


# -- a connection cut mid-complete --------------------------------------------------------------
def test_connection_cut_after_complete_committed_then_repeated_complete_is_a_no_op(
    db_url: str, client: Client
) -> None:
    queue = "faults-cut"
    client.enqueue(queue, "t", {"n": 1})
    job_id, token = claim_one(client, queue)

    victim = psycopg.connect(db_url, autocommit=True)
    pid = victim.info.backend_pid
    failure: list[BaseException] = []

    def call() -> None:
        # One simple-query message: the complete commits, then the backend sleeps before the
        # client has read any answer. Terminating it now is a cut after the commit.
        try:
            victim.execute(
                f"begin; select * from api.complete({job_id}, '{token}', '{{\"v\": 1}}');"
                " commit; select pg_sleep(30)"
            )
        except psycopg.Error as exc:
            failure.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    wait_for(
        lambda: (
            one(db_url, f"select status::text from {ALL_JOBS} where id = %s", [job_id])
            == "succeeded"
        ),
        10,
        "the complete to commit",
    )
    assert one(db_url, "select pg_terminate_backend(%s)", [pid]) is True
    caller.join(timeout=10)
    victim.close()
    assert failure and isinstance(failure[0], psycopg.OperationalError), failure

    # The client never saw the answer: it retries with the same token and gets the same job.
    again = client.complete(job_id, token, {"v": 1})
    assert (again.id, again.status, again.result) == (job_id, "succeeded", {"v": 1})
    batch = client.complete_batch([(job_id, token, {"v": 1})])
    assert batch == [Completion(job_id, True, None)]
    assert [e for e in events(db_url, job_id) if e[0] == "succeeded"] == [("succeeded", 1)]
    assert client.check_invariants() == []


class CutAfterCommit(Client):
    """A client whose first complete_batch commits and then loses the answer."""

    cuts = 0

    def complete_batch(self, items: Sequence[tuple[int, UUID, Any]]) -> list[Completion]:
        outcomes = super().complete_batch(items)
        if self.cuts == 0:
            self.cuts += 1
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return outcomes


def test_worker_reports_again_after_a_cut_and_keeps_running(db_url: str) -> None:
    queue = "faults-worker-cut"
    client = CutAfterCommit(db_url, max_size=2)
    worker = Worker(client, [queue], 2, lease_seconds=30, poll_seconds=0.1)
    worker.task("echo")(lambda ctx: {"echo": ctx.payload["n"]})
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()

    def finished(job_id: int) -> dict[str, Any] | None:
        job = client.get_job(job_id)
        return job if job["status"] in FINAL else None

    try:
        first = client.enqueue(queue, "echo", {"n": 1}).id
        wait_for(lambda: client.cuts == 1, 20, "the cut")
        second = client.enqueue(queue, "echo", {"n": 2}).id
        for job_id, n in ((first, 1), (second, 2)):
            job = wait_for(functools.partial(finished, job_id), 20, f"job {job_id}")
            assert (job["status"], job["attempt"], job["result"]) == ("succeeded", 1, {"echo": n})
            assert [e for e in events(db_url, job_id) if e[0] == "succeeded"] == [("succeeded", 1)]
        assert thread.is_alive(), "the worker died on the cut"
    finally:
        worker.stop()
        thread.join(timeout=30)
        client.close()


# -- a worker paused past its lease -------------------------------------------------------------
def test_sigstopped_worker_loses_the_job_and_its_late_complete_is_rejected(
    db_url: str, client: Client, tmp_path: Path
) -> None:
    queue = "faults-pause"
    prepare(db_url)
    job_id = client.enqueue(queue, "pausable", {"seconds": 3}).id
    started: list[WorkerProcess] = []
    try:
        paused = start_worker(db_url, tmp_path, "paused", 1, 2, queue=queue)
        started.append(paused)
        wait_for(
            lambda: (
                one(db_url, f"select status::text from {ALL_JOBS} where id = %s", [job_id])
                == "running"
            ),
            30,
            f"the first worker to claim; log:\n{paused.tail()}",
        )
        stale_token = one(db_url, f"select lease_token from {ALL_JOBS} where id = %s", [job_id])
        paused.proc.send_signal(signal.SIGSTOP)
        time.sleep(2.5)  # past the 2 s lease: nobody extends it any more

        other = start_worker(db_url, tmp_path, "other", 1, 2, queue=queue)
        started.append(other)
        wait_for(
            lambda: (
                one(db_url, f"select status::text from {ALL_JOBS} where id = %s", [job_id])
                == "succeeded"
            ),
            30,
            f"the other worker to finish the job; log:\n{other.tail()}",
        )
        paused.proc.send_signal(signal.SIGCONT)
        # The paused worker wakes up, finishes attempt 1 and learns it lost the lease: it
        # discards its result (heartbeat said lost) or has it refused (lease_lost).
        wait_for(
            lambda: "job discarded" in paused.tail(20000) or "job lease_lost" in paused.tail(20000),
            30,
            f"the paused worker to give the job up; log:\n{paused.tail()}",
        )
        # Its late complete, sent by hand with the token it held, changes nothing.
        with pytest.raises(LeaseLost) as caught:
            client.complete(job_id, stale_token, {"late": True})
        assert caught.value.detail["status"] == "succeeded"

        result = one(db_url, f"select result from {ALL_JOBS} where id = %s", [job_id])
        assert result["attempt"] == 2 and result["pid"] == other.proc.pid
        assert result["pid"] != paused.proc.pid
        assert events(db_url, job_id) == [
            ("enqueued", 0),
            ("claimed", 1),
            ("lease_expired", 1),
            ("claimed", 2),
            ("succeeded", 2),
        ]
        assert client.check_invariants() == []
    finally:
        for w in started:
            if w.proc.poll() is None:
                w.proc.send_signal(signal.SIGCONT)
                w.proc.kill()
                w.proc.wait(timeout=10)


# -- clocks -------------------------------------------------------------------------------------
# Every timestamp an api function accepts, and why a client clock there cannot touch a lease
# or a backoff. A new timestamp parameter fails this test until it is reviewed and listed.
CLIENT_TIMESTAMPS = {
    ("enqueue", "run_at"): "not before; clamped to the database clock when in the past",
    ("list_jobs", "created_after"): "a read filter",
    ("list_jobs", "created_before"): "a read filter",
    ("list_artifacts", "created_after"): "a read filter",
    ("list_artifacts", "created_before"): "a read filter",
    ("put_secret", "expires_at"): "the provider's own expiry of the key, a date, not a lease",
}
LEASE_FUNCTIONS = {"claim", "heartbeat", "complete", "complete_batch", "fail", "progress", "reap"}


def test_no_api_function_takes_a_client_time_for_leases_or_backoff(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select p.proname::text, a.name, format_type(a.type, null)"
            " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " cross join lateral unnest(p.proargnames[1:p.pronargs], p.proargtypes::oid[])"
            "   as a(name, type)"
            " where n.nspname = 'api'"
        ).fetchall()
    timestamps = {
        (fn, arg) for fn, arg, typ in rows if typ.startswith(("timestamp", "time ", "date"))
    }
    assert timestamps == set(CLIENT_TIMESTAMPS)
    assert not {fn for fn, _ in timestamps} & LEASE_FUNCTIONS
    # Durations a client may pass are relative, so a skewed clock cannot shift them.
    intervals = {(fn, arg) for fn, arg, typ in rows if typ == "interval"}
    assert ("fail", "retry_in") in intervals


def test_a_skewed_client_clock_changes_nothing(db_url: str, client: Client) -> None:
    queue = "faults-clock"
    client.configure_queue(queue, backoff_base_seconds=10, backoff_max_seconds=10, backoff_jitter=0)
    # A client an hour behind schedules "now" in the past: the job runs at the database's now.
    behind = datetime.now(UTC) - timedelta(hours=1)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set timezone = 'Pacific/Kiritimati'")  # and a strange time zone
        job_id, run_at, db_now = conn.execute(
            "select (j).id, (j).run_at, now() from (select api.enqueue(%s, 't', '{}',"
            " run_at => %s) as j) s",
            [queue, behind],
        ).fetchone() or (None, None, None)
    assert run_at == db_now, "a run_at in the past is clamped to the database clock"

    # The lease, its extension and the backoff come from the database's transaction time.
    executor = client.register_executor("clock", [queue])
    with psycopg.connect(db_url) as conn:  # one transaction: now() is fixed
        claimed = conn.execute(
            "select lease_token, lease_expires_at, now() from api.claim(%s, %s, 1, 7)",
            [executor, [queue]],
        ).fetchone()
        assert claimed is not None
        token, expires_at, now = claimed
        assert expires_at == now + timedelta(seconds=7)
        conn.commit()
    with psycopg.connect(db_url) as conn:
        conn.execute("select api.heartbeat(%s, %s)", [executor, [job_id]])
        extended, now = conn.execute(
            f"select lease_expires_at, now() from {ALL_JOBS} where id = %s", [job_id]
        ).fetchone() or (None, None)
        assert extended == now + timedelta(seconds=7)
        conn.commit()
    with psycopg.connect(db_url) as conn:
        status, retry_at, now = conn.execute(
            "select (j).status::text, (j).run_at, now() from (select api.fail(%s, %s) as j) s",
            [job_id, token],
        ).fetchone() or (None, None, None)
        assert (status, retry_at) == ("queued", now + timedelta(seconds=10))
        conn.commit()
