"""Security review finding 8: wake-ups are per workspace. The job triggers notify
``collab_jobs:<workspace_id>`` (payload: the sorted, comma-separated queues that got runnable
jobs, or empty for "any queue") and ``collab_events:<workspace_id>``, once per workspace per
statement; the old global channels ``collab_jobs`` and ``collab_events`` are silent. A tenant's
enqueue never wakes another tenant's workers or subscribers, nor tells them its queue names,
and a batch over 10,000 queues is one wake-up, not 10,000."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from helpers import acting_in, heard, listener, service_workspaces, wait_for, wait_listening

from collab import Client, Worker
from collab.client import ClaimedJob
from collab.worker import JobContext


@pytest.fixture(scope="module")
def workspaces(db_url: str) -> dict[str, str]:
    return service_workspaces(db_url, "finding8")


def test_whoami_names_the_channels_of_the_callers_workspace(
    db_url: str, workspaces: dict[str, str]
) -> None:
    with acting_in(db_url, workspaces["a"]) as a:
        me = a.whoami()
    assert me["workspace_id"] == workspaces["a"]
    assert me["jobs_channel"] == f"collab_jobs:{workspaces['a']}"
    assert me["events_channel"] == f"collab_events:{workspaces['a']}"


def test_an_enqueue_wakes_its_own_workspace_only(db_url: str, workspaces: dict[str, str]) -> None:
    with acting_in(db_url, workspaces["a"]) as a, acting_in(db_url, workspaces["b"]) as b:
        mine, theirs = a.whoami(), b.whoami()
        with (
            listener(db_url, mine["jobs_channel"], mine["events_channel"]) as in_a,
            listener(db_url, theirs["jobs_channel"], theirs["events_channel"]) as in_b,
            listener(db_url, "collab_jobs", "collab_events") as global_,
        ):
            a.enqueue("f8-one", "t")
            assert sorted(heard(in_a)) == [
                (mine["events_channel"], ""),
                (mine["jobs_channel"], "f8-one"),
            ]
            a.enqueue_batch([{"queue": q, "type": "t"} for q in ("f8-c", "f8-a", "f8-b", "f8-a")])
            jobs = [n for n in heard(in_a) if n[0] == mine["jobs_channel"]]
            assert jobs == [(mine["jobs_channel"], "f8-a,f8-b,f8-c")], "one, queues sorted"
            assert heard(in_b, 0.2) == [], "B hears nothing of A"
            assert heard(global_, 0.2) == [], "the global channels are gone"


def test_a_batch_of_ten_thousand_jobs_over_five_thousand_queues_is_one_wake_up(
    db_url: str, workspaces: dict[str, str]
) -> None:
    with acting_in(db_url, workspaces["a"]) as a, acting_in(db_url, workspaces["b"]) as b:
        mine, theirs = a.whoami(), b.whoami()
        with (
            listener(db_url, mine["jobs_channel"], mine["events_channel"]) as in_a,
            listener(db_url, theirs["jobs_channel"], theirs["events_channel"]) as in_b,
        ):
            time.sleep(0.1)  # past the 50 ms events window of the session that enqueues
            jobs = a.enqueue_batch(
                # 5,000 queues (the operator's default allows 10,000 a workspace), two jobs each
                [{"queue": f"f8-many-{i % 5_000:05d}", "type": "t"} for i in range(10_000)]
            )
            assert len(jobs) == 10_000
            got = heard(in_a, 1.0)
            assert [n for n in got if n[0] == mine["jobs_channel"]] == [
                (mine["jobs_channel"], "")  # too many names to list: any queue
            ]
            assert [n for n in got if n[0] == mine["events_channel"]] == [
                (mine["events_channel"], "")
            ]
            assert heard(in_b, 0.2) == []


def test_a_worker_wakes_only_on_its_own_workspaces_enqueues(
    db_url: str, workspaces: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = "f8-work"  # the same queue name in both workspaces
    with acting_in(db_url, workspaces["a"]) as a, acting_in(db_url, workspaces["b"]) as b:
        claims: dict[str, int] = {"a": 0, "b": 0}
        done: dict[str, list[int]] = {"a": [], "b": []}
        workers: dict[str, Worker] = {}
        threads: list[threading.Thread] = []
        for name, client in (("a", a), ("b", b)):

            def counting(
                *args: Any, _name: str = name, _claim: Any = client.claim, **kwargs: Any
            ) -> list[ClaimedJob]:
                claims[_name] += 1
                result: list[ClaimedJob] = _claim(*args, **kwargs)
                return result

            monkeypatch.setattr(client, "claim", counting)
            # A 30 s poll: within the waits below only a notification can wake a worker.
            worker = Worker(client, [queue], 2, name=f"f8-worker-{name}", poll_seconds=30)

            @worker.task("t")
            def handle(ctx: JobContext, _name: str = name) -> None:
                done[_name].append(ctx.job.id)

            workers[name] = worker
            threads.append(threading.Thread(target=worker.run, daemon=True))
        for t in threads:
            t.start()
        try:
            wait_listening(db_url, "f8-worker-a", "f8-worker-b")
            wait_for(lambda: claims["a"] >= 1 and claims["b"] >= 1, 30, "first claims")
            time.sleep(0.3)  # both main loops asleep on their 30 s poll
            before_b = claims["b"]

            job_a = a.enqueue(queue, "t").id
            wait_for(lambda: done["a"] == [job_a], 10, "A's worker woken by A's enqueue")
            time.sleep(0.5)
            assert claims["b"] == before_b, "A's enqueue woke B's worker"
            assert done["b"] == []

            job_b = b.enqueue(queue, "t").id
            wait_for(lambda: done["b"] == [job_b], 10, "B's worker woken by B's enqueue")
            assert done["a"] == [job_a]
        finally:
            for w in workers.values():
                w.stop()
            for t in threads:
                t.join(30)
        assert not any(t.is_alive() for t in threads)


def test_a_wake_up_names_queues_or_none_for_any(db_url: str) -> None:
    with Client(db_url, max_size=1) as c:
        worker = Worker(c, ["q1", "q2"], 1)
        assert worker._heard("q2") == [0.0]
        assert worker._heard("a,q1,z") == [0.0]
        assert worker._heard("") == [0.0], "empty: too many queues to list, any may be ours"
        assert worker._heard("q10,q3") is None
        assert worker._heard("q1x") is None
        # jobs due later (collab.notify_jobs_later): in how many seconds to claim
        assert worker._heard("@1500 a,q2") == [1.5]
        assert worker._heard("@20,300,4000 q1") == [0.02, 0.3, 4.0], "each time"
        assert worker._heard("@20 ") == [0.02], "any queue"
        assert worker._heard("@1500 q3") is None
        assert worker._heard("@1500,2000 q3") is None
        assert worker._heard("@x q1") is None, "not a time: not a wake-up"
        assert worker._heard("@-5 q1") is None
        assert worker._heard("@20,,30 q1") is None
        assert worker._heard("@20,x q1") is None
