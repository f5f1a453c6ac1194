"""The calls a worker makes for every job or every beat compile nothing with JIT, whatever the
statistics of collab.jobs make their plans cost.

Under a snapshot held open, an autovacuum of collab.jobs removes none of its dead rows and
leaves statistics under which the generic plan of api.complete_batch's completing statement,
costed for 100 items, came to 123,321: over `jit_above_cost` (100,000 by default), so every
call compiled the plan before running it, and calls of a few jobs took up to 300 ms until the
next autovacuum (the held-snapshot row of bench/run.py, docs/bench.md). The worker's calls set
`jit = off`, as api.claim and api.enqueue_batch did already. This test stands in for such
statistics with `jit_above_cost = 0` (every plan is over it) and reads, from
pg_stat_statements with `track = all`, how many functions each statement run inside the calls
compiled: none. The control, a statement of a PL/pgSQL block without the setting run the same
way in the same session, compiles, so the count is read where JIT would show.

pg_stat_statements keeps 5,000 entries for the whole test cluster, which every test's database
fills, and evicts the least used when it needs room: an entry evicted between two readings
hides what it counted (a CI run's control once found no compilation, most likely so). So each
measurement is taken again when pg_stat_statements_info counts an eviction during it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
import pytest
from helpers import without_evictions

QUEUE = "jit"


def nested_jit(c: psycopg.Connection[tuple[object, ...]]) -> dict[str, int]:
    """The statements run inside functions or blocks in this database that JIT compiled, with
    the functions they compiled so far."""
    rows = c.execute(
        "select query, jit_functions from pg_stat_statements"
        " where dbid = (select oid from pg_database where datname = current_database())"
        " and not toplevel and jit_functions > 0"
    ).fetchall()
    return {str(q): int(str(n)) for q, n in rows}


def compiled_by(
    c: psycopg.Connection[tuple[object, ...]], action: Callable[[], object]
) -> dict[str, int]:
    """The statements run inside functions or blocks that JIT compiled while ``action`` ran, with
    the functions each compiled (helpers.without_evictions)."""

    def reading() -> dict[str, int]:
        before = nested_jit(c)
        action()
        after = nested_jit(c)
        return {q: n - before.get(q, 0) for q, n in after.items() if n > before.get(q, 0)}

    return without_evictions(c, reading)


def round_(c: psycopg.Connection[tuple[object, ...]], executor: object, finish: str) -> None:
    """A job's calls: enqueued, claimed, a heartbeat, a progress report, and finished by
    api.complete_batch (the Python worker), api.complete (a REST caller) or api.fail."""
    c.execute("select api.enqueue(%s, 't', '{}'::jsonb)", [QUEUE])
    claimed = c.execute(
        "select id, lease_token from api.claim(%s, array[%s], 1, 60)", [executor, QUEUE]
    ).fetchall()
    assert len(claimed) == 1
    job, token = claimed[0]
    c.execute("select api.heartbeat(%s, %s)", [executor, [job]])
    c.execute("select api.progress(%s, %s, 0.5, 'half')", [job, token])
    if finish == "complete_batch":
        items = json.dumps([{"job_id": job, "lease_token": str(token)}])
        done = c.execute("select count(*) from api.complete_batch(%s::jsonb) where ok", [items])
        assert done.fetchone() == (1,)
    elif finish == "complete":
        status = c.execute("select status from api.complete(%s, %s)", [job, token]).fetchone()
        assert status == ("succeeded",)
    else:
        status = c.execute(
            "select status from api.fail(%s, %s, retryable => false)", [job, token]
        ).fetchone()
        assert status == ("dead",)


def test_the_calls_of_a_job_compile_nothing_whatever_their_plans_cost(own_db: str) -> None:
    with psycopg.connect(own_db, autocommit=True) as c:
        available = c.execute("select pg_jit_available()").fetchone()
        if not (available and available[0]):
            pytest.skip("this server has no JIT provider: nothing can be compiled")
        c.execute("create extension if not exists pg_stat_statements")
        c.execute("set pg_stat_statements.track = 'all'")
        c.execute("set jit = on")
        c.execute("set jit_above_cost = 0")
        # Compile without inlining or optimizing: the cheapest compilation still counts.
        c.execute("set jit_inline_above_cost = -1")
        c.execute("set jit_optimize_above_cost = -1")
        executor = c.execute("select api.register_executor('jit', array[%s])", [QUEUE]).fetchone()
        assert executor is not None
        control = compiled_by(
            c,
            lambda: c.execute(
                "do $$ begin perform count(*) from collab.jobs where attempt >= 0; end $$"
            ),
        )
        assert [" ".join(q.split()) for q in control] == [
            "SELECT count(*) from collab.jobs where attempt >= $1"
        ]

        def rounds() -> None:
            # Past the 5 custom plans PL/pgSQL tries first, to the generic plans a worker's
            # session keeps (api.complete_batch and api.claim use no others).
            for finish in ("complete_batch", "complete", "fail"):
                for _ in range(7):
                    round_(c, executor[0], finish)

        compiled = compiled_by(c, rounds)
    assert compiled == {}, "statements compiled with JIT inside the calls: " + "; ".join(
        f"{n} functions for {' '.join(q.split())[:120]}" for q, n in compiled.items()
    )
