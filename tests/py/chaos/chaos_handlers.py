"""Handlers for the worker processes of the chaos run (``--import chaos_handlers``).

``chaos_effect`` records its side effect — one row ``(job_id, attempt, pid)`` in
``public.chaos_side_effects`` of the database in ``COLLAB_DATABASE_URL`` — then returns the
pid and attempt, so the run can check that the accepted result is the one whose side effect
exists. ``pausable`` sleeps on its first attempt (long enough to be SIGSTOPped past its lease).
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any

import psycopg

from collab import tasks
from collab.worker import JobContext

_local = threading.local()


def _connection() -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(
            os.environ["COLLAB_DATABASE_URL"], autocommit=True, connect_timeout=5
        )
        _local.conn = conn
    return conn


def _record(job_id: int, attempt: int) -> None:
    try:
        _connection().execute(
            "insert into public.chaos_side_effects (job_id, attempt, pid) values (%s, %s, %s)",
            [job_id, attempt, os.getpid()],
        )
    except psycopg.OperationalError:
        # The database restarted under us: drop the connection; the attempt fails and is
        # retried (the insert may or may not have committed: at-least-once).
        conn = getattr(_local, "conn", None)
        if conn is not None:
            conn.close()
        raise


@tasks.task("chaos_effect")
def chaos_effect(ctx: JobContext) -> dict[str, Any]:
    """Work a little, record the side effect, work a little more (so a kill can fall between
    the side effect and the report), return. payload["max_sleep"]: the longest total work."""
    max_sleep = float(ctx.payload.get("max_sleep", 0.1))
    time.sleep(random.uniform(0, max_sleep / 2))
    _record(ctx.job.id, ctx.job.attempt)
    time.sleep(random.uniform(0, max_sleep / 2))
    return {"n": ctx.payload.get("n"), "pid": os.getpid(), "attempt": ctx.job.attempt}


@tasks.task("pausable")
def pausable(ctx: JobContext) -> dict[str, Any]:
    """Attempt 1 sleeps payload["seconds"]; later attempts return at once."""
    if ctx.job.attempt == 1:
        time.sleep(float(ctx.payload.get("seconds", 3)))
    _record(ctx.job.id, ctx.job.attempt)
    return {"pid": os.getpid(), "attempt": ctx.job.attempt}
