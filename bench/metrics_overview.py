"""``metrics-overview`` with 10^6 jobs (issue 14), before and after in the same run, on the
benchmark cluster (bench/.cluster) through ``collab stack`` (PostgREST, the gateway, Deno).

    .venv/bin/python bench/metrics_overview.py [--jobs 1000000] [--calls 100] [--before HEAD]

The workload of bench/artifacts.py's metrics-overview part: 20,000 jobs enqueued through the
api in 8 queues, 5,000 of them claimed and completed or failed, then ``--jobs`` finished jobs
inserted by one SQL statement. Then p50/p95 of ``api.metrics_overview()`` in SQL (as the
user) and of ``GET /functions/v1/metrics-overview`` (one client), first with the
definitions of the working tree, then with those of the git revision ``--before``
(collab.metrics_window, collab.metrics_latency, api.metrics_overview as that revision has
them, loaded into the same database), then the working tree's again, all with the 30,000
events of the live workload not yet rolled up (read live: a burst within the last minute);
last, after ``collab.metrics_rollup()`` (what the minute job does), the working tree's
again. Same data, same machine load. Writes bench/results/metrics_overview/<UTC date-time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from artifacts import fill_finished_jobs, live_workload, overview_latencies, overview_sql
from collab import stack
from run import RESULTS, ROOT, Bench, Sizes, pct, say, settle

FUNCTIONS = [
    "sql/functions/collab.metrics_latency.sql",
    "sql/functions/collab.metrics_window.sql",
    "sql/functions/api.metrics_overview.sql",
]


def load_definitions(dsn: str, texts: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        for text in texts:
            c.execute(text)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--before", default="HEAD", help="git revision of the 'before' definitions")
    args = parser.parse_args()
    current = [(ROOT / f).read_text() for f in FUNCTIONS]
    before = [
        subprocess.run(["git", "show", f"{args.before}:{f}"], cwd=ROOT, check=True,
                       capture_output=True, text=True).stdout
        for f in FUNCTIONS
    ]  # fmt: skip

    b = Bench(Sizes(quick=True))
    b.start()
    dsn = b.fresh("overview_bench", b.collab_template())
    the_stack = stack.Stack(Path(tempfile.mkdtemp(prefix="collab-bench-stack-")))
    state = the_stack.up(dsn, api_port="auto", postgrest_port="auto")
    keys = the_stack.secrets()
    assert keys is not None
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ"),
        "before": args.before,
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "goal": {"metrics_overview_p95_ms": "< 50"},
        "runs": [],
    }
    try:
        user = str(uuid.uuid4())
        first = stack.mint_token(keys.jwt_secret, "authenticated", sub=user, ttl=7200)
        made = httpx.post(
            f"{state.api_url}/rest/v1/rpc/create_workspace",
            json={"name": "bench"},
            headers={"apikey": keys.anon_key, "authorization": f"Bearer {first}",
                     "content-type": "application/json", "content-profile": "api"},
        )  # fmt: skip
        made.raise_for_status()
        workspace = str(made.json()["workspace_id"])
        token = stack.mint_token(
            keys.jwt_secret, "authenticated", sub=user, workspace=workspace, ttl=7200
        )
        say("live workload through the api, then the finished jobs")
        live_workload(dsn, workspace, 20000, 5000)
        total = fill_finished_jobs(dsn, workspace, args.jobs)
        settle(dsn)
        result["jobs"] = total

        def measure(label: str, state_of_metrics: str) -> None:
            sql_ms = overview_sql(dsn, user, workspace, args.calls)
            ms = overview_latencies(state.api_url, token, keys.anon_key, args.calls)
            row = {
                "definitions": label,
                "state": state_of_metrics,
                "sql_p50_ms": pct(sql_ms, 50),
                "sql_p95_ms": pct(sql_ms, 95),
                "edge_p50_ms": pct(ms, 50),
                "edge_p95_ms": pct(ms, 95),
                "load_average": os.getloadavg(),
            }
            result["runs"].append(row)
            say(f"  {total:,} jobs, {label}, {state_of_metrics}: {row}")

        for label, texts in (("after", current), ("before", before), ("after", current)):
            load_definitions(dsn, texts)
            measure(label, "30,000 events of the last minute read live")
        load_definitions(dsn, current)
        # The state a running deployment is in between bursts: the minute job (pg_cron, or the
        # reaper's collab.metrics_rollup) has rolled the events up, none is read live.
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("select collab.metrics_rollup()")
        measure("after", "rolled up")
    finally:
        the_stack.down(stop_db=False)
    result["load_average_at_end"] = os.getloadavg()
    out = RESULTS / "metrics_overview"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{result['started_at']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    say(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
