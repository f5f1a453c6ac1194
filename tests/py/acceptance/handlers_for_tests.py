"""Handlers for worker processes started by the acceptance tests.

Imported by ``collab worker --import handlers_for_tests`` (tests/py/acceptance is put on
PYTHONPATH in the subprocess environment).
"""

from __future__ import annotations

import time
from typing import Any

from collab import tasks
from collab.worker import JobContext


@tasks.task("sleep")
def sleep(ctx: JobContext) -> dict[str, Any]:
    """Sleep payload["seconds"], then report which attempt did it."""
    seconds = float(ctx.payload.get("seconds", 1))
    time.sleep(seconds)
    return {"slept": seconds, "attempt": ctx.job.attempt}


@tasks.task("slow_first_attempt")
def slow_first_attempt(ctx: JobContext) -> dict[str, Any]:
    """The first attempt hangs (30 s: long enough to be killed mid-job); a retry is fast."""
    if ctx.job.attempt == 1:
        time.sleep(30)
    return {"finished_on_attempt": ctx.job.attempt}
