"""bench/cycle_cost.py's variants (bench/variants/) change what docs/bench.md says they change,
and nothing else: the cycle still claims, completes and writes its two events in each, the
compact CHECK constraints refuse every row the shipped ones refuse, the dropped ones refuse
none, and a variant's figure is the median of its per-round ratios to the shipped cycle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from helpers import load_module

ROOT = Path(__file__).resolve().parents[3]
VARIANTS = ROOT / "bench" / "variants"


def cycle_cost() -> Any:
    return load_module("collab_bench_cycle_cost", ROOT / "bench" / "cycle_cost.py")


# Rows the shipped CHECK constraints refuse, one rule each, written with the tables' triggers
# off (session_replication_role = replica) so that only the constraints decide. {queued},
# {running} and {done}: a queued job, a running one and one in the history; {ws}: their
# workspace; {ex}: the executor.
VIOLATIONS = {
    "a negative attempt": "update collab.jobs set attempt = -1 where id = {queued}",
    "an attempt past max_attempts": (
        "update collab.jobs set attempt = max_attempts + 1 where id = {queued}"
    ),
    "a queued job with a lease": (
        "update collab.jobs set lease_expires_at = now() where id = {queued}"
    ),
    "a running job without a lease": (
        "update collab.jobs set lease_expires_at = null where id = {running}"
    ),
    "a running job without its executor": (
        "update collab.jobs set executor_id = null where id = {running}"
    ),
    "a running job without its token": (
        "update collab.jobs set lease_token = null where id = {running}"
    ),
    "a finished job in the hot table": (
        "update collab.jobs set status = 'succeeded', lease_expires_at = null,"
        " finished_at = now() where id = {running}"
    ),
    "a queued job with finished_at": (
        "update collab.jobs set finished_at = now() where id = {queued}"
    ),
    "a job's event without its job": (
        "insert into collab.job_events (workspace_id, type, queue, job_type, attempt, created_at)"
        " values ('{ws}', 'claimed', 'bench', 'noop', 1, now())"
    ),
    "a job's event without its queue": (
        "insert into collab.job_events (workspace_id, job_id, type, job_type, attempt, created_at)"
        " values ('{ws}', {queued}, 'claimed', 'noop', 1, now())"
    ),
    "a presence event naming a job": (
        "insert into collab.job_events (workspace_id, job_id, type, executor_id, created_at)"
        " values ('{ws}', {queued}, 'executor_online', '{ex}', now())"
    ),
    "a presence event without its executor": (
        "insert into collab.job_events (workspace_id, type, created_at)"
        " values ('{ws}', 'executor_offline', now())"
    ),
    "a finished job whose last event is another state's": (
        "update collab.job_history set last_event = 'dead' where id = {done}"
    ),
    "an unfinished job in the history": (
        "update collab.job_history set status = 'running' where id = {done}"
    ),
    "a finished job with a lease": (
        "update collab.job_history set lease_expires_at = now() where id = {done}"
    ),
    "a finished job past its attempts": (
        "update collab.job_history set attempt = max_attempts + 1 where id = {done}"
    ),
}


def jobs_in_three_states(c: psycopg.Connection[Any]) -> dict[str, Any]:
    """A queued job, a running one and a succeeded one (in the history), with their workspace
    and executor, for VIOLATIONS."""
    ex = c.execute("select api.register_executor('cycle', array['bench'])").fetchone()
    assert ex is not None
    done, running, queued = (
        c.execute("select id from api.enqueue('bench', 'noop', '{}'::jsonb)").fetchone()[0]  # type: ignore[index]
        for _ in range(3)
    )
    claimed = c.execute("select id, lease_token from api.claim(%s, null, 1)", [ex[0]]).fetchone()
    assert claimed is not None and claimed[0] == done
    c.execute("select api.complete(%s, %s, null)", [done, claimed[1]])
    claimed = c.execute("select id from api.claim(%s, null, 1)", [ex[0]]).fetchone()
    assert claimed == (running,)
    ws = c.execute("select workspace_id from collab.jobs where id = %s", [queued]).fetchone()
    assert ws is not None
    return {"queued": queued, "running": running, "done": done, "ws": ws[0], "ex": ex[0]}


def refused(db: str, keys: dict[str, Any]) -> set[str]:
    """The VIOLATIONS that a CHECK constraint refuses in db (each rolled back)."""
    out = set()
    with psycopg.connect(db) as c:
        for what, statement in VIOLATIONS.items():
            c.execute("set local session_replication_role = replica")
            try:
                c.execute(statement.format(**keys))
            except psycopg.errors.CheckViolation:
                out.add(what)
            c.rollback()
    return out


@pytest.mark.parametrize(
    ("variant", "refuses_all"),
    [(None, True), ("checks_compact.sql", True), ("checks_dropped.sql", False)],
)
def test_the_check_variants_refuse_what_the_shipped_constraints_refuse_or_nothing(
    own_db: str, variant: str | None, refuses_all: bool
) -> None:
    cc = cycle_cost()
    with psycopg.connect(own_db, autocommit=True) as c:
        keys = jobs_in_three_states(c)
    if variant is not None:
        cc.apply_variant(own_db, VARIANTS / variant)

    assert refused(own_db, keys) == (set(VIOLATIONS) if refuses_all else set())


@pytest.mark.parametrize("variant", sorted(p.name for p in VARIANTS.glob("*.sql")))
def test_each_variant_still_claims_completes_and_writes_the_cycles_events(
    own_db: str, variant: str
) -> None:
    cc = cycle_cost()
    cc.apply_variant(own_db, VARIANTS / variant)  # as the tool does: before the fill
    cc.R.fill_collab(own_db, 8)
    ex = cc.R.executor(own_db)

    with psycopg.connect(own_db, autocommit=True) as c:
        cc.run_loop(c, cc.CYCLE.format(ex=ex, lease=300), 5)

        assert c.execute(
            "select status::text, count(*) from collab.job_history group by 1"
        ).fetchall() == [("succeeded", 5)]
        assert c.execute("select count(*) from collab.jobs").fetchone() == (3,)
        assert c.execute(
            "select type::text, count(*) from collab.job_events where job_id is not null"
            " group by 1 order by 1"
        ).fetchall() == [("claimed", 5), ("enqueued", 8), ("succeeded", 5)]
        triggers = c.execute(
            "select tgname, tgenabled from pg_trigger where not tgisinternal and tgname in"
            " ('jobs_events_update', 'job_history_events_insert') order by 1"
        ).fetchall()
    off = "D" if variant == "statement_triggers_disabled.sql" else "O"
    assert triggers == [("job_history_events_insert", off), ("jobs_events_update", off)]


def test_a_variant_is_the_median_of_its_ratios_to_the_shipped_cycle_in_each_round() -> None:
    cc = cycle_cost()
    took = {cc.SHIPPED: [100.0, 200.0, 400.0], "variant v": [90.0, 220.0, 200.0]}

    # each round's ratio: 0.9, 1.1, 0.5 (the ratio of the medians would be 1.0)
    assert cc.paired(took, "variant v") == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("names", "error"),
    [
        (["a-b.sql", "a_b.sql"], "--variant: two files of one name"),
        (["missing.sql"], "no such file"),
    ],
)
def test_variants_that_cannot_be_told_apart_or_read_are_refused_before_anything_runs(
    tmp_path: Path, names: list[str], error: str
) -> None:
    paths = [tmp_path / name for name in names]
    for path in paths:
        if path.name != "missing.sql":
            path.write_text("select 1;")

    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cycle_cost.py")]
        + [arg for path in paths for arg in ("--variant", str(path))],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1 and error in done.stderr
    assert "benchmark cluster" not in done.stdout  # refused before the cluster starts


@pytest.mark.parametrize("step", [1, 2, 3])
def test_each_ladder_step_claims_completes_and_writes_the_cycles_events_once(
    own_db: str, step: int
) -> None:
    """The ladder's middle steps (bench/cycle_cost.py --ladder) do the cycle's writes: each
    claim leases a job and writes its claimed event, each completion moves it under its token
    to the history with its succeeded event, and no event twice (with the triggers on, the
    statements name themselves first, so the triggers write nothing of their own)."""
    cc = cycle_cost()
    change = cc.LADDER_CHANGES[step]
    if change is not None:
        change(own_db)
    cc.R.fill_collab(own_db, 8)
    ex = cc.R.executor(own_db)
    ws = cc.R.workspace_of(own_db, ex)
    with psycopg.connect(own_db, autocommit=True) as c:
        cc.run_loop(c, cc.ladder_body(step, ex, ws), 5)

        assert c.execute(
            "select status::text, count(*), count(distinct lease_token) from collab.job_history"
            " group by 1"
        ).fetchall() == [("succeeded", 5, 5)]
        assert c.execute(
            "select status::text, count(*) from collab.jobs group by 1"
        ).fetchall() == [("queued", 3)]
        assert c.execute(
            "select type::text, count(*), count(distinct job_id) from collab.job_events"
            " where job_id is not null group by 1 order by 1"
        ).fetchall() == [("claimed", 5, 5)] + [("enqueued", 8, 8)] * (step != 1) + [
            ("succeeded", 5, 5)
        ]  # (with the triggers off from before the fill, the fill writes no enqueued events)
        triggers = c.execute(
            "select distinct tgenabled from pg_trigger where not tgisinternal and tgname in"
            " ('jobs_events_update', 'job_history_events_insert')"
        ).fetchall()
    assert triggers == [("D" if step == 1 else "O",)]


def test_the_ladders_functions_carry_the_api_functions_options_and_fence_by_token(
    own_db: str,
) -> None:
    cc = cycle_cost()
    cc.R.ladder_functions(own_db)
    cc.R.fill_collab(own_db, 2)
    ex = cc.R.executor(own_db)
    with psycopg.connect(own_db, autocommit=True) as c:
        options: dict[str, Any] = dict(
            c.execute(
                "select proname, proconfig from pg_proc where oid in"
                " ('api.claim(uuid, text[], integer, integer)'::regprocedure,"
                "  'api.complete(bigint, uuid, jsonb)'::regprocedure,"
                "  'public.ladder_claim(uuid, uuid)'::regprocedure,"
                "  'public.ladder_complete(bigint, uuid, uuid)'::regprocedure)"
            ).fetchall()
        )
        ws = cc.R.workspace_of(own_db, ex)
        job, token = c.execute("select * from public.ladder_claim(%s, %s)", [ex, ws]).fetchone()  # type: ignore[misc]
        moved_by_another_token = c.execute(
            "select public.ladder_complete(%s, gen_random_uuid(), %s)", [job, ws]
        ).fetchone()
        moved = c.execute("select public.ladder_complete(%s, %s, %s)", [job, token, ws]).fetchone()

    assert options["ladder_claim"] == options["claim"] and options["claim"]
    assert options["ladder_complete"] == options["complete"] and options["complete"]
    assert (moved_by_another_token, moved) == ((0,), (1,))


def test_a_ladder_layer_is_the_median_of_its_step_over_the_one_below_in_each_round() -> None:
    cc = cycle_cost()
    took = dict(
        zip(
            cc.LADDER,
            [
                [100.0, 200.0, 100.0],
                [150.0, 400.0, 160.0],
                [160.0, 410.0, 200.0],
                [200.0, 420.0, 210.0],
                [400.0, 500.0, 500.0],
            ],
            strict=True,
        )
    )

    got = cc.steps(took)

    assert [layer for layer, _, _ in got] == list(cc.LADDER_LAYERS)
    # medians: 100, 160, 200, 210, 500; steps per round: 50/200/60, 10/10/40, 40/10/10,
    # 200/80/290
    assert [(m, s) for _, m, s in got] == [
        (100.0, 100.0),
        (160.0, 60.0),
        (200.0, 10.0),
        (210.0, 10.0),
        (500.0, 200.0),
    ]
