"""bench/wake_cost.py times what docs/bench.md ("The wake-up row, call by call") says it times:
an enqueue call to its notification at a listener, and a claim made after an idle pause, for
Collab's api, the probe of Collab's tables and the contract's bare writes. The probe must write
what a claim writes (lease, fresh token, one `claimed` event), or its figure would bound
nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from helpers import load_module

ROOT = Path(__file__).resolve().parents[3]


def wake_cost() -> Any:
    return load_module("collab_bench_wake_cost", ROOT / "bench" / "wake_cost.py")


def test_enqueue_to_notification_pairs_each_call_with_its_notification(fresh_db: str) -> None:
    wc = wake_cost()
    wc.R.build_contract(fresh_db)

    wait, returned = wc.to_notification(fresh_db, "contract_jobs", wc.R.CONTRACT_WAKE_ENQUEUE, 4)

    assert 0 < wait < 2000 and 0 < returned < 2000
    with psycopg.connect(fresh_db, autocommit=True) as c:
        # 5 untimed calls, then the 4 timed: each a job and its event
        assert c.execute("select count(*) from contract_jobs").fetchone() == (9,)
        assert c.execute("select count(*) from contract_events").fetchone() == (9,)


def test_enqueue_to_notification_fails_when_the_notifications_do_not_come(fresh_db: str) -> None:
    wc = wake_cost()
    wc.R.build_contract(fresh_db)

    with pytest.raises(RuntimeError, match="0 notifications for 1 enqueues on another_channel"):
        wc.to_notification(fresh_db, "another_channel", wc.R.CONTRACT_WAKE_ENQUEUE, 1)


def test_the_probe_claims_with_a_lease_a_fresh_token_and_one_claimed_event(own_db: str) -> None:
    wc = wake_cost()
    with psycopg.connect(own_db, autocommit=True) as c:
        ex = c.execute("select api.register_executor('probe', array['wake'])").fetchone()
        assert ex is not None
        c.execute(wc.API_ENQUEUE, [1.0])
        c.execute(wc.API_ENQUEUE, [2.0])

        rows = c.execute(wc.ONE_STATEMENT_CLAIM, [ex[0]]).fetchall()

        assert len(rows) == 2
        jobs = c.execute(
            "select id, status, attempt, executor_id, lease_token, lease_expires_at > now()"
            " from collab.jobs order by id"
        ).fetchall()
        assert [(j[0], j[1], j[2], j[3], j[4], j[5]) for j in jobs] == [
            (job_id, "running", 1, ex[0], token, True) for job_id, token in sorted(rows)
        ]
        assert len({j[4] for j in jobs}) == 2, "each job gets a fresh token"
        events = c.execute(
            "select job_id, array_agg(type::text order by id) from collab.job_events"
            " where job_id is not null group by job_id order by job_id"
        ).fetchall()
        assert events == [(job_id, ["enqueued", "claimed"]) for job_id, _ in sorted(rows)]
        # the api accepts the probe's tokens: the claim is a real one
        for job_id, token in rows:
            c.execute(wc.API_COMPLETE, [job_id, token])
        assert c.execute("select count(*) from collab.jobs").fetchone() == (0,)


def test_idle_claims_time_each_claim_of_one_job_and_complete_it(own_db: str) -> None:
    wc = wake_cost()
    with psycopg.connect(own_db, autocommit=True) as c:
        ex = c.execute("select api.register_executor('idle', array['wake'])").fetchone()
        assert ex is not None

    def claim(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
        return conn.execute(wc.API_CLAIM, [ex[0]]).fetchall()

    def complete(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> None:
        for job_id, token in rows:
            conn.execute(wc.API_COMPLETE, [job_id, token])

    took = wc.idle_claims(own_db, wc.API_ENQUEUE, claim, complete, 2)

    assert 0 < took < 2000
    with psycopg.connect(own_db, autocommit=True) as c:
        assert c.execute("select count(*) from collab.jobs").fetchone() == (0,)
        # 20 untimed and 2 timed, each claimed once and finished
        assert c.execute(
            "select count(*), count(*) filter (where status = 'succeeded' and attempt = 1)"
            " from collab.job_history"
        ).fetchone() == (22, 22)


def test_idle_claims_refuse_a_claim_that_does_not_get_the_one_job(fresh_db: str) -> None:
    wc = wake_cost()
    wc.R.build_contract(fresh_db)

    def claim_nothing(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
        return []

    with pytest.raises(RuntimeError, match="got 0 jobs"):
        wc.idle_claims(fresh_db, wc.R.CONTRACT_WAKE_ENQUEUE, claim_nothing, lambda c, r: None, 1)
