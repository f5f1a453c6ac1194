"""bench/herd.py measures what docs/scaling.md ("Many idle workers") says it measures: k idle
consumers on one channel, each claiming once per notification, so a job costs k claims and
still runs once. The counts must be exact, or the claims a job it prints would be a guess."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from helpers import load_module, with_database

ROOT = Path(__file__).resolve().parents[3]


def herd() -> Any:
    return load_module("collab_bench_herd", ROOT / "bench" / "herd.py")


def test_every_idle_collab_worker_claims_on_every_notification_and_a_job_runs_once(
    own_db: str,
) -> None:
    h = herd()

    figures = h.idle_workers(own_db, h.collab_system(own_db, 3), 3, 4)

    assert figures["claims_per_job"] == 3.0
    assert 0 < figures["p50"] <= figures["p99"] < 2000
    assert figures["database_us_per_job"] > 0 and figures["client_us_per_job"] > 0
    with psycopg.connect(own_db, autocommit=True) as c:
        assert c.execute("select count(*) from collab.jobs").fetchone() == (0,)
        # 5 untimed and 4 timed jobs, each claimed once (attempt 1) by one of the 3 executors
        assert c.execute(
            "select count(*), count(*) filter (where status = 'succeeded' and attempt = 1),"
            " count(distinct executor_id) <= 3 from collab.job_history"
        ).fetchone() == (9, 9, True)
        assert c.execute(
            "select count(*) from collab.executors where name like 'herd-%'"
        ).fetchone() == (3,)


def test_collab_consumers_taking_turns_claim_once_a_job(own_db: str) -> None:
    """With turns, one consumer of the three holds the lane's turn and claims on each
    notification; the others wait for it and claim nothing (without turns: three a job)."""
    h = herd()

    figures = h.idle_workers(own_db, h.collab_system(own_db, 3, turns=True), 3, 4)

    assert figures["claims_per_job"] == 1.0
    with psycopg.connect(own_db, autocommit=True) as c:
        assert c.execute(
            "select count(*), count(*) filter (where status = 'succeeded' and attempt = 1),"
            " count(distinct executor_id) from collab.job_history"
        ).fetchone() == (9, 9, 1), "each job once, all by the consumer holding the turn"


def test_a_consumer_that_gets_the_turn_late_claims_for_every_notification_held_back(
    own_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another session holds the lane's turn while the first three jobs are enqueued, so
    their notifications reach the one consumer together, after its wait for the turn: it
    claims once for each of them. Claiming once for the lot left two jobs unclaimed until
    later jobs' notifications, and the last ones unclaimed at the end (the trial fails)."""
    h = herd()
    monkeypatch.setattr(h, "TURN_WAIT_MS", 10_000)  # one wait, all three held back in it
    system = h.collab_system(own_db, 1, turns=True)
    with psycopg.connect(own_db, autocommit=True) as holder:
        other = holder.execute("select api.register_executor('holder', array['wake'])")
        holder_id = other.fetchone()[0]  # type: ignore[index]
        assert holder.execute(h.COLLAB_TURN, [holder_id, 0]).fetchone() == (True,)

        def hand_over() -> None:
            with psycopg.connect(own_db, autocommit=True) as c:
                while c.execute("select count(*) >= 3 from collab.jobs").fetchone() != (True,):
                    time.sleep(0.005)
            holder.execute("select api.end_turn()")

        handing = threading.Thread(target=hand_over, daemon=True)
        handing.start()
        figures = h.idle_workers(own_db, system, 1, 4)
        handing.join(5)

    assert figures["claims_per_job"] == 1.0
    with psycopg.connect(own_db, autocommit=True) as c:
        assert c.execute(
            "select count(*), count(*) filter (where status = 'succeeded' and attempt = 1),"
            " count(distinct executor_id) from collab.job_history"
        ).fetchone() == (9, 9, 1)


def test_the_contracts_bare_writes_pay_the_same_claims_a_job(fresh_db: str) -> None:
    h = herd()
    h.R.build_contract(fresh_db)

    figures = h.idle_workers(fresh_db, h.contract_system(), 2, 3)

    assert figures["claims_per_job"] == 2.0
    with psycopg.connect(fresh_db, autocommit=True) as c:
        assert c.execute("select count(*) from contract_jobs").fetchone() == (0,)
        assert c.execute("select count(*), max(attempt) from contract_history").fetchone() == (
            8,
            1,
        )


def test_a_channel_that_no_enqueue_notifies_fails_the_trial(fresh_db: str) -> None:
    h = herd()
    h.R.build_contract(fresh_db)
    elsewhere = h.contract_system()._replace(channel="another_channel")

    with pytest.raises(
        RuntimeError,
        match=r"0 jobs claimed of 5 enqueued on another_channel"
        r" \(claims by consumer \[0\], of which found nothing \[0\]\)",
    ):
        h.idle_workers(fresh_db, elsewhere, 1, 1)


def test_a_claim_that_finds_nothing_is_told_from_a_notification_missed(fresh_db: str) -> None:
    """A job left unclaimed says which: here every notification was heard and claimed for,
    and each claim found nothing (the channel above: no claim at all)."""
    h = herd()
    h.R.build_contract(fresh_db)

    def claim(conn: psycopg.Connection[Any], i: int) -> list[Any]:
        return conn.execute("select 1 where false").fetchall()

    finding_nothing = h.contract_system()._replace(claim=claim)

    with pytest.raises(
        RuntimeError,
        match=r"0 jobs claimed of 5 enqueued on contract_jobs"
        r" \(claims by consumer \[5\], of which found nothing \[5\]\)",
    ):
        h.idle_workers(fresh_db, finding_nothing, 1, 1)


def test_a_consumer_that_fails_fails_the_trial(fresh_db: str) -> None:
    h = herd()
    h.R.build_contract(fresh_db)

    def claim(conn: psycopg.Connection[Any], i: int) -> list[Any]:
        return conn.execute("select * from no_such_table").fetchall()

    broken = h.contract_system()._replace(claim=claim)

    with pytest.raises(RuntimeError, match=r"a consumer failed: .*no_such_table"):
        h.idle_workers(fresh_db, broken, 1, 1)


def test_a_consumer_that_cannot_listen_fails_the_trial(server_url: str) -> None:
    h = herd()
    missing = with_database(server_url, "no_such_database")

    with pytest.raises(RuntimeError, match=r'a consumer failed: .*"no_such_database"'):
        h.idle_workers(missing, h.contract_system(), 2, 1)
