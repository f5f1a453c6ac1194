"""Security review finding 5: a viewer's ``api.metrics_summary`` only reads. It used to roll up
the metrics inside the caller's transaction (an UPDATE, so an xid), and ``api.events_since``
returns only events below the snapshot xmin of the whole database: while a viewer of workspace
A held its transaction open, no tenant saw new events. Now the rollup runs from the reaper;
B's event arrives while A's read transaction is still open."""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
from helpers import acting_in, service_workspaces

HOLD_SECONDS = 3.0


@pytest.fixture(scope="module")
def workspaces(db_url: str) -> dict[str, str]:
    return service_workspaces(db_url, "finding5")


def test_a_viewers_metrics_read_does_not_hold_back_another_tenants_stream(
    db_url: str, workspaces: dict[str, str]
) -> None:
    viewer = uuid.uuid4()
    with psycopg.connect(db_url, autocommit=True) as su:
        su.execute(
            "insert into collab.members (workspace_id, user_id, role) values (%s, %s, 'viewer')",
            (workspaces["a"], viewer),
        )
    with (
        acting_in(db_url, workspaces["a"], max_size=1) as a,
        acting_in(db_url, workspaces["b"], max_size=1) as b,
    ):
        a.enqueue("f5", "t")  # something for a rollup to fold in
        b.enqueue("f5", "t")
        cursor = b.events_since(None, 10000)[-1].cursor
        with psycopg.connect(db_url) as read_tx:  # A's viewer, in one long read transaction
            read_tx.execute("set local role authenticated")
            read_tx.execute(
                "select set_config('request.jwt.claims', %s, true)",
                (json.dumps({"sub": str(viewer), "role": "authenticated"}),),
            )
            read_tx.execute("select api.metrics_summary('all')")
            xid = read_tx.execute("select pg_current_xact_id_if_assigned()").fetchone()
            b.enqueue("f5", "t")
            committed = time.monotonic()
            seen = None
            while time.monotonic() - committed < HOLD_SECONDS:
                if b.events_since(cursor, 100):
                    seen = time.monotonic() - committed
                    break
                time.sleep(0.01)
            read_still_open = (
                read_tx.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            )
        if seen is None:  # measured only to report it: how late B's event came
            while not b.events_since(cursor, 100):
                time.sleep(0.01)
            late = time.monotonic() - committed
            pytest.fail(
                f"B's event arrived {late:.3f} s after its commit, only once A's viewer "
                f"transaction (xid {xid}) ended"
            )
    print(f"\nB's event lag while A's viewer transaction was open: {seen * 1000:.1f} ms")
    assert read_still_open
    assert xid == (None,), "metrics_summary took no transaction id"
