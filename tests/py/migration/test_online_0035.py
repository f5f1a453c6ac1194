"""Revision 0035 gives every column of collab.jobs statistics target 10 online, and goes down.

Its ALTER TABLE takes SHARE UPDATE EXCLUSIVE on collab.jobs, which no api call's lock conflicts
with. While a claim's transaction stays open (its job locked, ROW EXCLUSIVE held on the table)
and a claimer enqueues, claims and completes one job per transaction with ``lock_timeout = 1s``,
migrating up to 0035 ends without waiting for either, and the claimer never waits a second for
a lock. Down again puts the default target back.

A VACUUM or ANALYZE of collab.jobs holds the lock the revision needs: the revision waits for it
in one wait (an autovacuum is cancelled after deadlock_timeout of it), while claims go on.
"""

from __future__ import annotations

import threading
import time

import psycopg
from online_load import WS, run_under_claimer

from collab import migrate

TARGETS = """
select array_agg(distinct a.attstattarget)
  from pg_attribute a
 where a.attrelid = 'collab.jobs'::regclass and a.attnum > 0 and not a.attisdropped
"""


def targets(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(TARGETS).fetchone()
    assert row is not None
    return list(row[0])


def test_revision_0035_sets_the_hot_tables_targets_beside_an_open_claim(fresh_db: str) -> None:
    migrate.up(fresh_db, "0034")
    assert targets(fresh_db) == [-1]

    with psycopg.connect(fresh_db) as held:
        held.execute(
            "select set_config('request.jwt.claims', %s, false)", [f'{{"workspace_id": "{WS}"}}']
        )
        executor = held.execute("select api.register_executor('held', array['held'])").fetchone()
        assert executor is not None
        held.execute("select api.enqueue('held', 't', '{}')")
        held.commit()
        claimed = held.execute(
            "select id, lease_token from api.claim(%s, array['held'], 1, 60)", [executor[0]]
        ).fetchone()
        assert claimed is not None  # and its transaction stays open through the migration

        run_under_claimer(fresh_db, lambda: migrate.up(fresh_db, "0035"))
        assert targets(fresh_db) == [10]

        held.execute("select api.complete(%s, %s)", list(claimed))
        held.commit()

    with psycopg.connect(fresh_db) as conn:
        row = conn.execute(
            "select status from collab.job_history where id = %s", [claimed[0]]
        ).fetchone()
    assert row == ("succeeded",), "the claim held open through the migration completed after it"

    migrate.down(fresh_db, "0034")
    assert targets(fresh_db) == [-1]


def test_revision_0035_waits_for_a_vacuum_of_the_hot_table_while_claims_go_on(
    fresh_db: str,
) -> None:
    migrate.up(fresh_db, "0034")
    holding = threading.Event()

    def vacuum_like() -> None:
        # SHARE UPDATE EXCLUSIVE, as a VACUUM or ANALYZE of collab.jobs holds it, for 3 s
        with psycopg.connect(fresh_db) as conn:
            conn.execute("lock table collab.jobs in share update exclusive mode")
            holding.set()
            time.sleep(3)

    def migration() -> None:
        blocker = threading.Thread(target=vacuum_like)
        blocker.start()
        assert holding.wait(10)
        started = time.monotonic()
        migrate.up(fresh_db, "0035")
        waited = time.monotonic() - started
        blocker.join()
        assert waited >= 2.5, f"the revision waited for the lock ({waited:.2f} s)"

    run_under_claimer(fresh_db, migration)
    assert targets(fresh_db) == [10]
