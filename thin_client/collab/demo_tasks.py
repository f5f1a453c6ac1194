"""Handlers of `make demo`: three kinds of agent work, some flaky, some poison."""

from __future__ import annotations

import random
import time
from typing import Any

from collab import tasks
from collab.worker import JobContext, NonRetryable


@tasks.task("summarize")
def summarize(ctx: JobContext) -> dict[str, Any]:
    time.sleep(random.uniform(0.005, 0.03))
    text = str(ctx.payload.get("text", ""))
    if ctx.job.id % 20 == 0:  # a few jobs leave their summary as an artifact (docs/artifacts.md)
        ctx.put_artifact(
            f"summaries/{ctx.job.id}.md", f"# Summary\n\n{text[:200]}\n", "text/markdown"
        )
    return {"summary": text[:24], "words": len(text.split())}


@tasks.task("fetch")
def fetch(ctx: JobContext) -> dict[str, Any]:
    time.sleep(random.uniform(0.005, 0.02))
    if ctx.payload.get("always_fail"):
        raise ConnectionError(f"upstream {ctx.payload['url']} keeps timing out")
    if ctx.payload.get("flaky") and ctx.job.attempt == 1:
        raise TimeoutError(f"upstream {ctx.payload['url']} timed out (transient)")
    return {"status": 200, "url": ctx.payload["url"]}


@tasks.task("parse")
def parse(ctx: JobContext) -> dict[str, Any]:
    time.sleep(random.uniform(0.002, 0.01))
    if ctx.payload.get("poison"):
        raise NonRetryable("document is not valid UTF-8: cannot parse, never will")
    ctx.progress(100, "parsed")
    return {"tokens": ctx.payload["size"] // 4}
