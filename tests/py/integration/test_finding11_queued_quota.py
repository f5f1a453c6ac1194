"""Security review finding 11: the max_queued_jobs quota holds under concurrency. Eight
connections enqueue a batch of 1,000 jobs each at the same moment into a workspace whose quota
is 1,000: one batch fits, the other seven get PT429 quota_exceeded (it was 2,000 queued
before: the checks ran side by side and each counted before the others committed)."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from helpers import ALL_JOBS

from collab import Client

CONNECTIONS = 8
BATCH = 1000
QUOTA = 1000


@pytest.fixture(scope="module")
def workspace(db_url: str) -> str:
    with Client(db_url, max_size=1) as service:
        return str(service.create_workspace("finding11")["workspace_id"])


def test_concurrent_batches_never_exceed_the_quota(db_url: str, workspace: str) -> None:
    claims = {"role": "service_role", "workspace_id": workspace}
    with Client(db_url, max_size=1, claims=claims) as admin:
        admin.configure_workspace(max_queued_jobs=QUOTA)
    jobs = [{"queue": "f11", "type": "t"} for _ in range(BATCH)]
    start = threading.Barrier(CONNECTIONS)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def enqueue() -> None:
        with Client(db_url, max_size=1, claims=claims) as c:
            c.whoami()  # connected before the start line
            start.wait()
            try:
                c.enqueue_batch(jobs)
                outcome: Any = "ok"
            except Exception as exc:  # the quota error, or anything else to report
                outcome = exc
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=enqueue) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            f"select count(*) from {ALL_JOBS} where workspace_id = %s and status = 'queued'",
            (workspace,),
        ).fetchone()
    assert row is not None
    queued = row[0]
    refused = [o for o in outcomes if o != "ok"]
    assert queued <= QUOTA, f"{queued} queued with a quota of {QUOTA}"
    assert outcomes.count("ok") == 1 and queued == QUOTA
    assert all(getattr(o, "reason", None) == "quota_exceeded" for o in refused), refused
