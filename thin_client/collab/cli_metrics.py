"""``collab metrics``: the summary as a table (or JSON, or Prometheus text) and ``serve``."""

from __future__ import annotations

import contextlib
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from collab import logs
from collab import metrics as metrics_server
from collab.cli_common import client, one_line_errors, print_json

COUNTERS = (
    ("enqueued", "enq"),
    ("claims", "claims"),
    ("completed", "done"),
    ("retries", "retry"),
    ("failed", "failed"),
    ("dead", "dead"),
    ("lease_expirations", "expired"),
    ("cancelled", "cancel"),
)
PHASES = (("queue_wait", "wait"), ("run_time", "run"), ("end_to_end", "end to end"))


def _seconds(value: Any) -> str:
    if value is None:
        return "-"
    v = float(value)
    return f"{v * 1000:.0f}ms" if v < 1 else f"{v:.2f}s" if v < 100 else f"{v:.0f}s"


def render(summary: dict[str, Any], console: Console | None = None) -> None:
    """The summary as tables: counters, latencies (per queue and type, then the total), gauges."""
    console = console or Console()
    scope = f"since {summary['since']}" + (
        f", queue {summary['queue']}" if summary["queue"] else ""
    )
    rows = [(r["queue"], r["type"], r) for r in summary["by_queue_type"]]
    rows.append(("total", "", summary["totals"]))

    counters = Table(title=f"Collab metrics {scope}")
    counters.add_column("queue")
    counters.add_column("type")
    for _, header in COUNTERS:
        counters.add_column(header, justify="right")
    for queue, type_, r in rows:
        counters.add_row(queue, type_, *(str(r["counters"][key]) for key, _ in COUNTERS))
    console.print(counters)

    latency = Table(title="latency (seconds)")
    for col in ("queue", "type", "phase", "count", "p50", "p95", "p99"):
        latency.add_column(col, justify="left" if col in ("queue", "type", "phase") else "right")
    for queue, type_, r in rows:
        for phase, label in PHASES:
            p = r["latency"][phase]
            if p["count"]:
                latency.add_row(
                    queue,
                    type_,
                    label,
                    str(p["count"]),
                    *(_seconds(p[q]) for q in ("p50", "p95", "p99")),
                )
    console.print(latency)

    gauges = summary["gauges"]
    now = Table(title="now")
    for col in ("queue", "queued", "running", "succeeded", "cancelled", "dead", "oldest queued"):
        now.add_column(col, justify="left" if col == "queue" else "right")
    for queue, g in gauges["queues"].items():
        now.add_row(
            queue + (" (paused)" if g["paused"] else ""),
            *(str(g[s]) for s in ("queued", "running", "succeeded", "cancelled", "dead")),
            _seconds(g["oldest_queued_age_seconds"]),
        )
    console.print(now)
    ex = gauges["executors"]
    console.print(
        f"executors: {ex['online']} online, {ex['stale']} stale, {ex['offline']} offline; "
        f"DLQ: {gauges['dlq_size']}"
    )


@click.group("metrics", invoke_without_command=True)
@click.option(
    "--since", default="15m", show_default=True, help="Window: 15m, 24h, 7d or a timestamp."
)
@click.option("--queue", default=None, help="Only this queue.")
@click.option("--json", "as_json", is_flag=True, help="The api.metrics_summary JSON.")
@click.option("--prometheus", is_flag=True, help="The Prometheus text exposition.")
@click.pass_context
@one_line_errors
def metrics_group(
    ctx: click.Context, since: str, queue: str | None, as_json: bool, prometheus: bool
) -> None:
    """Counters, phase latencies and gauges (docs/metrics.md)."""
    if ctx.invoked_subcommand is not None:
        return
    if as_json and prometheus:
        raise click.UsageError("choose one of --json and --prometheus")
    with client() as the_client:
        if prometheus:
            click.echo(the_client.metrics_prometheus(), nl=False)
        elif as_json:
            print_json(the_client.metrics_summary(since, queue))
        else:
            render(the_client.metrics_summary(since, queue))


@metrics_group.command("serve")
@click.option("--port", type=int, default=9187, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--log-format", type=click.Choice(["json", "text"]), default=None)
@one_line_errors
def metrics_serve(port: int, host: str, log_format: str | None) -> None:
    """Serve /metrics for a Prometheus scrape."""
    logs.setup(log_format)
    with client() as the_client, contextlib.suppress(KeyboardInterrupt):
        the_client.whoami()  # an unmigrated database fails here, in one line, not at each scrape
        metrics_server.serve(the_client, host, port)
