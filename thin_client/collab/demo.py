"""`make demo`: ~1,000 agent jobs drained by 4 worker processes, watched through the event stream.

Runs on a fresh database ``collab_demo`` of the embedded cluster (or of the server named by
COLLAB_DATABASE_URL), never on the default one, so that a demo never touches your data; it
prints the line that points the CLI at it afterwards. It starts a ``collab stack`` of its own
(the real PostgREST and the gateway, on free ports, under ``.collab/demo-stack``) and the
producers enqueue through it as Supabase users do, with supabase-py over REST; the 4 `collab
worker` processes keep their direct Postgres connection. Jobs are of three types, some failing
transiently (they retry with backoff) and some for good (they land in the dead-letter queue);
live counts per state come from ``api.events_since``, then a summary.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import warnings
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from collab import embedded, migrate, stack
from collab.client import Client, Event

QUEUE = "agents"
DATABASE = "collab_demo"
STATE_OF = {
    "enqueued": "queued",
    "requeued": "queued",
    "retry_scheduled": "queued",
    "lease_expired": "queued",
    "lease_released": "queued",
    "claimed": "running",
    "succeeded": "succeeded",
    "dead": "dead",
    "cancelled": "cancelled",
}


def fresh_database(server_url: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DATABASE))
        )
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{DATABASE}"))


def demo_jobs(n: int = 1000) -> list[dict[str, Any]]:
    rng = random.Random(42)
    jobs: list[dict[str, Any]] = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.6:
            jobs.append(
                {
                    "queue": QUEUE,
                    "type": "summarize",
                    "payload": {"text": f"agent transcript {i} " * rng.randint(1, 8)},
                    "priority": rng.randint(0, 2),
                }
            )
        elif kind < 0.9:
            jobs.append(
                {
                    "queue": QUEUE,
                    "type": "fetch",
                    "payload": {
                        "url": f"https://example.test/doc/{i}",
                        "flaky": rng.random() < 0.3,
                        "always_fail": rng.random() < 0.03,
                    },
                }
            )
        else:
            jobs.append(
                {
                    "queue": QUEUE,
                    "type": "parse",
                    "payload": {"size": rng.randint(100, 10_000), "poison": rng.random() < 0.3},
                }
            )
    return jobs


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def enqueue_over_rest(api_url: str, service_role_key: str, jobs: list[dict[str, Any]]) -> int:
    """Enqueue ``jobs`` as a Supabase producer does: supabase-py, ``api.enqueue_batch`` over the
    gateway and PostgREST, 250 a call. Returns the number of calls."""
    from supabase import ClientOptions, create_client

    # supabase-py 2.34 passes its own deprecated arguments to postgrest-py: not ours to fix
    warnings.filterwarnings("ignore", "The '(timeout|verify)' parameter", DeprecationWarning)
    options = ClientOptions(schema="api", auto_refresh_token=False, persist_session=False)
    rest = create_client(api_url, service_role_key, options=options)
    calls = 0
    for i in range(0, len(jobs), 250):
        rest.rpc("enqueue_batch", {"jobs": jobs[i : i + 250]}).execute()
        calls += 1
    return calls


def dashboard_line(dsn: str) -> str:
    """Where to watch the demo live: the dashboard of a `collab stack` serving its database."""
    running = stack.Stack()
    state = running.state()
    if running.running() and state is not None and state.db_url == dsn:
        return (
            f"Dashboard (live, the next demo too): [bold]{state.api_url}/dashboard/[/] "
            "(sign in as the operator of the default workspace)"
        )
    return (
        f"Dashboard: [bold]COLLAB_DATABASE_URL={dsn} collab stack up[/], then open "
        "[bold]http://127.0.0.1:54321/dashboard/[/] (operator of the default workspace); "
        "run `make demo` again to watch it live"
    )


def main() -> int:
    console = Console()
    started = time.monotonic()
    server = embedded.database_url()
    home = Path(os.environ.get("COLLAB_HOME", os.getcwd()))
    rest_stack = stack.Stack(home / ".collab" / "demo-stack")
    rest_stack.down(
        stop_db=False
    )  # a stack left over from an earlier demo served a dropped database
    dsn = fresh_database(server)
    migrate.up(dsn)
    console.print(f"[bold]Collab demo[/] on a fresh database [cyan]{DATABASE}[/]")
    try:
        return run(console, started, dsn, rest_stack, home)
    finally:
        rest_stack.down(stop_db=False)


def run(console: Console, started: float, dsn: str, rest_stack: stack.Stack, home: Path) -> int:
    state_of_stack = rest_stack.up(dsn, api_port="auto", postgrest_port="auto")
    keys = rest_stack.secrets()
    assert keys is not None
    console.print(
        f"REST: gateway [cyan]{state_of_stack.api_url}[/] -> {state_of_stack.postgrest_version}"
    )

    client = Client(dsn, max_size=2)
    client.configure_queue(
        QUEUE, max_attempts=3, backoff_base_seconds=0.2, backoff_max_seconds=1.0, backoff_jitter=0.2
    )
    log_dir = home / ".collab" / "demo-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COLLAB_DATABASE_URL": dsn}
    workers = []
    for w in range(4):
        log = (log_dir / f"worker-{w}.log").open("w")
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "collab.cli",
                    "worker",
                    "--queue",
                    QUEUE,
                    "--concurrency",
                    "8",
                    "--import",
                    "collab.demo_tasks",
                    "--name",
                    f"demo-worker-{w}",
                    "--log-format",
                    "json",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    jobs = demo_jobs()
    rest_calls = enqueue_over_rest(state_of_stack.api_url, keys.service_role_key, jobs)
    total = len(jobs)
    console.print(
        f"enqueued {total} jobs over REST (supabase-py, {rest_calls} calls of enqueue_batch): "
        f"{dict(Counter(j['type'] for j in jobs))}"
    )

    state: dict[int, str] = {}
    counts: Counter[str] = Counter()
    events: list[Event] = []
    cursor: str | None = None
    progress = Progress(
        TextColumn("[bold]finished"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )
    bar = progress.add_task("jobs", total=total)

    def view() -> Table:
        grid = Table.grid(padding=(0, 2))
        grid.add_row(progress)
        line = "  ".join(
            f"{s}: [bold]{sum(1 for v in state.values() if v == s)}[/]"
            for s in ("queued", "running", "succeeded", "dead", "cancelled")
        )
        grid.add_row(
            f"{line}   retries: [bold]{counts['retry_scheduled']}[/]   events: {len(events)}"
        )
        return grid

    deadline = time.monotonic() + 120
    with Live(view(), console=console, refresh_per_second=8, transient=False) as live:
        while time.monotonic() < deadline:
            batch = client.events_since(cursor, 5000)
            for ev in batch:
                if ev.job_id is None:  # executor presence, not a job
                    continue
                state[ev.job_id] = STATE_OF.get(ev.type, state.get(ev.job_id, "queued"))
                counts[ev.type] += 1
                events.append(ev)
            if batch:
                cursor = batch[-1].cursor
            finished = sum(1 for v in state.values() if v in ("succeeded", "dead", "cancelled"))
            progress.update(bar, completed=finished)
            live.update(view())
            if finished >= total and len(state) >= total:
                break
            if not batch:
                time.sleep(0.1)

    for p in workers:
        p.send_signal(signal.SIGTERM)
    for p in workers:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()

    # Phase latencies from the stream: queue wait (runnable -> claimed), run time (claimed -> end).
    runnable_at: dict[int, datetime] = {}
    claimed_at: dict[int, datetime] = {}
    waits: list[float] = []
    runs: list[float] = []
    retried = set()
    for ev in events:
        if ev.job_id is None:
            continue
        if ev.type in (
            "enqueued",
            "retry_scheduled",
            "lease_expired",
            "requeued",
            "lease_released",
        ):
            run_at = ev.data.get("run_at") if isinstance(ev.data, dict) else None
            runnable_at[ev.job_id] = datetime.fromisoformat(run_at) if run_at else ev.created_at
            if ev.type == "retry_scheduled":
                retried.add(ev.job_id)
        if ev.type == "claimed":
            claimed_at[ev.job_id] = ev.created_at
            if ev.job_id in runnable_at:
                waits.append(max(0.0, (ev.created_at - runnable_at[ev.job_id]).total_seconds()))
        if (
            ev.type in ("succeeded", "retry_scheduled", "dead", "lease_expired")
            and ev.job_id in claimed_at
        ):
            runs.append((ev.created_at - claimed_at.pop(ev.job_id)).total_seconds())

    final = Counter(state.values())
    table = Table(title="Collab demo: summary")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("jobs", str(total))
    table.add_row(
        "enqueued through", f"REST: supabase-py -> nginx -> PostgREST ({rest_calls} calls)"
    )
    table.add_row("workers", "4 processes, direct Postgres connection (psycopg)")
    table.add_row("succeeded", str(final["succeeded"]))
    table.add_row("retried (jobs)", str(len(retried)))
    table.add_row("dead (DLQ)", str(final["dead"]))
    table.add_row("still queued/running", str(final["queued"] + final["running"]))
    table.add_row(
        "queue wait p50 / p99",
        f"{percentile(waits, 0.5) * 1000:.1f} / {percentile(waits, 0.99) * 1000:.1f} ms",
    )
    table.add_row(
        "run time p50 / p99",
        f"{percentile(runs, 0.5) * 1000:.1f} / {percentile(runs, 0.99) * 1000:.1f} ms",
    )
    table.add_row("events streamed", str(len(events)))
    artifacts, _ = client.list_artifacts(limit=1000)
    table.add_row("artifacts left by jobs", str(len(artifacts)))
    table.add_row("wall time", f"{time.monotonic() - started:.1f} s")
    console.print(table)
    dead, _ = client.list_jobs(status="dead", limit=3)
    for job in dead:
        console.print(
            f"  dead job {job.id} ({job.type}): {job.last_error.get('reason')} "
            f"after {job.attempt} attempt(s)"
        )
    # LLM routing (docs/routing.md): rank a route, call it, show the snapshot
    from collab.cli_routes import render_snapshot
    from collab.routing import demo_routing

    render_snapshot(demo_routing(client, dsn), console)
    client.close()
    console.print(
        f"Explore it: [bold]export COLLAB_DATABASE_URL={dsn}[/], then `collab jobs list`, "
        "`collab dlq list`, `collab metrics`."
    )
    console.print(dashboard_line(dsn))
    ok = final["succeeded"] + final["dead"] == total
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
