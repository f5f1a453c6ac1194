"""The ``collab`` command line: the embedded cluster, migrations, and (later) jobs and workers."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
from dataclasses import asdict
from datetime import timedelta

import click
from rich.console import Console
from rich.table import Table

from collab import (
    cli_common,
    cli_events,
    cli_metrics,
    cli_routes,
    cli_search,
    cli_secrets,
    cli_stack,
    embedded,
    logs,
    migrate,
    tasks,
)
from collab.aio_worker import AsyncWorker
from collab.client import Client, Job
from collab.errors import CollabError
from collab.worker import Worker

# Shared by every subcommand module (collab.cli_common): no module imports this one back.
one_line_errors = cli_common.one_line_errors
_client = cli_common.client
_print_json = cli_common.print_json


@click.group()
@click.version_option(package_name="collab")
def main() -> None:
    """Collab: a Postgres-native orchestration core for fleets of AI agents."""


main.add_command(cli_stack.stack)  # collab stack up | down | status | env
main.add_command(cli_stack.token)  # collab token
main.add_command(cli_events.events)  # collab events tail
main.add_command(cli_metrics.metrics_group)  # collab metrics [serve]
main.add_command(cli_routes.routes)  # collab routes list | add | snapshot
main.add_command(cli_secrets.secrets)  # collab secrets put | get | rotate | list | audit
main.add_command(cli_search.search)  # collab search query | index | eval | build-sets


# -- collab db --------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """The embedded PostgreSQL cluster under .collab/pg (COLLAB_PG_DIR)."""


@db.command("start")
@one_line_errors
def db_start() -> None:
    """Start the embedded cluster (initdb on first start); a no-op when it runs."""
    cluster = embedded.EmbeddedPostgres()
    was_running = cluster.status().running
    st = cluster.start()
    state = "already running" if was_running else "started"
    click.echo(f"embedded cluster {state}: pid {st.pid}, port {st.port}, data {st.data_dir}")


@db.command("stop")
@one_line_errors
def db_stop() -> None:
    """Stop the embedded cluster (only this one)."""
    stopped = embedded.EmbeddedPostgres().stop()
    click.echo("embedded cluster stopped" if stopped else "embedded cluster was not running")


@db.command("status")
@one_line_errors
def db_status() -> None:
    """Say whether the embedded cluster runs; exit 3 when it does not."""
    st = embedded.EmbeddedPostgres().status()
    if st.running:
        click.echo(f"running: pid {st.pid}, port {st.port}, data {st.data_dir}")
    else:
        click.echo(f"not running (data {st.data_dir})")
        sys.exit(3)


@db.command("url")
@one_line_errors
def db_url() -> None:
    """Print the database URL every command uses (starting the cluster when needed)."""
    click.echo(embedded.database_url())


@db.command("psql", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@one_line_errors
def db_psql(args: tuple[str, ...]) -> None:
    """Open psql on the database (extra arguments go to psql)."""
    url = embedded.database_url()
    psql = embedded.find_psql()
    os.execv(psql, [psql, url, *args])


# -- collab migrate ---------------------------------------------------------------------------
@main.group("migrate")
def migrate_group() -> None:
    """Schema migrations (alembic revisions shipped with collab)."""


@migrate_group.command("up")
@click.argument("revision", default="head")
@one_line_errors
def migrate_up(revision: str) -> None:
    """Migrate up to REVISION (default: head)."""
    dsn = embedded.database_url()
    migrate.up(dsn, revision)
    click.echo(f"migrated up to {migrate.status(dsn).current}")


@migrate_group.command("down")
@click.argument("revision", default="-1")
@one_line_errors
def migrate_down(revision: str) -> None:
    """Migrate down to REVISION (default: one step; `base` empties the database)."""
    dsn = embedded.database_url()
    migrate.down(dsn, revision)
    click.echo(f"migrated down to {migrate.status(dsn).current or 'base'}")


@migrate_group.command("status")
@one_line_errors
def migrate_status() -> None:
    """Show the current revision, the head and what is pending."""
    st = migrate.status(embedded.database_url())
    click.echo(f"current: {st.current or 'base'}")
    click.echo(f"head:    {st.head}")
    click.echo(f"pending: {', '.join(st.pending) if st.pending else 'none'}")


@migrate_group.command("new")
@click.argument("message")
@one_line_errors
def migrate_new(message: str) -> None:
    """Create the next revision, recording the sql/ code objects it changes."""
    rev = migrate.new(message)
    click.echo(f"created revision {rev} and its code in migrations/code/{rev}/")


# -- jobs, workers, queues, DLQ ---------------------------------------------------------------
def _jobs_table(jobs: list[Job], title: str) -> None:
    table = Table(title=title)
    for col in ("id", "queue", "type", "status", "attempt", "priority", "run_at", "last error"):
        table.add_column(col)
    for j in jobs:
        err = (j.last_error or {}).get("reason", "") if isinstance(j.last_error, dict) else ""
        table.add_row(
            str(j.id),
            j.queue,
            j.type,
            j.status,
            f"{j.attempt}/{j.max_attempts}",
            str(j.priority),
            j.run_at.isoformat(timespec="seconds"),
            err,
        )
    Console().print(table)


@main.command("enqueue")
@click.argument("queue")
@click.argument("type")
@click.option("--payload", default="{}", help="JSON payload.")
@click.option("--priority", type=int, default=0, help="Higher runs first.")
@click.option("--delay", type=float, default=None, help="Seconds before the job may run.")
@click.option("--max-attempts", type=int, default=None)
@click.option("--idempotency-key", default=None)
@one_line_errors
def enqueue_cmd(
    queue: str,
    type: str,
    payload: str,
    priority: int,
    delay: float | None,
    max_attempts: int | None,
    idempotency_key: str | None,
) -> None:
    """Enqueue one job on QUEUE of TYPE."""
    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise CollabError(f"--payload is not valid JSON: {exc}") from exc
    with _client() as client:
        job = client.enqueue(
            queue,
            type,
            body,
            priority=priority,
            delay=None if delay is None else timedelta(seconds=delay),
            max_attempts=max_attempts,
            idempotency_key=idempotency_key,
        )
    click.echo(f"job {job.id} {'already existed' if job.duplicate else 'enqueued'} ({job.status})")


@main.command("worker")
@click.option(
    "--queue", "queues", multiple=True, required=True, help="Queue to serve (repeatable)."
)
@click.option("--concurrency", type=int, default=4)
@click.option(
    "--import", "imports", multiple=True, help="Module registering handlers on collab.tasks."
)
@click.option("--name", default=None, help="Executor name (default host-pid).")
@click.option("--lease-seconds", type=int, default=None)
@click.option("--stop-when-idle", is_flag=True, help="Exit when no job is claimable.")
@click.option(
    "--asyncio",
    "use_asyncio",
    is_flag=True,
    help="Run collab.AsyncWorker: async handlers on one event loop, sync ones in threads.",
)
@click.option("--log-format", type=click.Choice(["json", "text"]), default=None)
@one_line_errors
def worker_cmd(
    queues: tuple[str, ...],
    concurrency: int,
    imports: tuple[str, ...],
    name: str | None,
    lease_seconds: int | None,
    stop_when_idle: bool,
    use_asyncio: bool,
    log_format: str | None,
) -> None:
    """Run a worker: claim jobs from the queues and run the registered handlers."""
    logs.setup(log_format)
    for module in imports:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise CollabError(f"cannot import {module}: {exc}") from exc
    client = Client(embedded.database_url(), max_size=4)
    try:
        if use_asyncio:
            aworker = AsyncWorker(
                client, list(queues), concurrency, name=name, lease_seconds=lease_seconds
            )
            aworker.handlers.update(tasks.registry)
            aworker.install_signal_handlers()
            asyncio.run(aworker.run(stop_when_idle=stop_when_idle))
        else:
            worker = Worker(
                client, list(queues), concurrency, name=name, lease_seconds=lease_seconds
            )
            worker.handlers.update(tasks.registry)
            worker.install_signal_handlers()
            worker.run(stop_when_idle=stop_when_idle)
    finally:
        client.close()


@main.group()
def jobs() -> None:
    """List, show and cancel jobs."""


@jobs.command("list")
@click.option("--status", default=None)
@click.option("--queue", default=None)
@click.option("--type", "type_", default=None)
@click.option("--limit", type=int, default=20)
@click.option("--json", "as_json", is_flag=True)
@one_line_errors
def jobs_list(
    status: str | None, queue: str | None, type_: str | None, limit: int, as_json: bool
) -> None:
    """The newest jobs, filtered."""
    with _client() as client:
        page, _ = client.list_jobs(status=status, queue=queue, type=type_, limit=limit)
    if as_json:
        _print_json([asdict(j) for j in page])
    else:
        _jobs_table(page, "jobs")


@jobs.command("show")
@click.argument("job_id", type=int)
@one_line_errors
def jobs_show(job_id: int) -> None:
    """A job with its history."""
    with _client() as client:
        _print_json(client.get_job(job_id))


@jobs.command("cancel")
@click.argument("job_id", type=int)
@one_line_errors
def jobs_cancel(job_id: int) -> None:
    """Cancel a job (a running one stops at its next heartbeat)."""
    with _client() as client:
        job = client.cancel(job_id)
    click.echo(f"job {job.id}: {'cancel requested' if job.status == 'running' else job.status}")


@main.group()
def dlq() -> None:
    """The dead-letter queue: list, requeue, purge."""


@dlq.command("list")
@click.option("--queue", default=None)
@click.option("--limit", type=int, default=50)
@click.option("--json", "as_json", is_flag=True)
@one_line_errors
def dlq_list(queue: str | None, limit: int, as_json: bool) -> None:
    """Dead jobs with their last error."""
    with _client() as client:
        page, _ = client.list_jobs(status="dead", queue=queue, limit=limit)
    if as_json:
        _print_json([asdict(j) for j in page])
    else:
        _jobs_table(page, "dead jobs")


@dlq.command("requeue")
@click.argument("job_ids", type=int, nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every dead job (of --queue).")
@click.option("--queue", default=None)
@one_line_errors
def dlq_requeue(job_ids: tuple[int, ...], all_: bool, queue: str | None) -> None:
    """Requeue dead jobs by id, or --all."""
    with _client() as client:
        ids = list(job_ids)
        if all_:
            cursor = None
            while True:
                page, cursor = client.list_jobs(
                    status="dead", queue=queue, after=cursor, limit=1000
                )
                ids += [j.id for j in page]
                if cursor is None:
                    break
        if not ids:
            raise CollabError("name the job ids to requeue, or --all")
        done = client.requeue(ids)
    click.echo(f"requeued {len(done)} job(s)")


@dlq.command("purge")
@click.option("--queue", default=None)
@click.option("--older-than", type=float, default=None, help="Only jobs dead for longer (seconds).")
@one_line_errors
def dlq_purge(queue: str | None, older_than: float | None) -> None:
    """Delete dead jobs for good."""
    with _client() as client:
        n = client.purge_dead(queue, None if older_than is None else timedelta(seconds=older_than))
    click.echo(f"purged {n} dead job(s)")


@main.group()
def queues() -> None:
    """List, pause and resume queues."""


@queues.command("list")
@click.option("--json", "as_json", is_flag=True)
@one_line_errors
def queues_list(as_json: bool) -> None:
    """Queues with their settings and depth per state."""
    with _client() as client:
        stats = client.list_queues(1000)
        while len(stats) % 1000 == 0 and stats:  # every page, 1,000 queues at a time
            page = client.list_queues(1000, after=stats[-1].queue.name)
            if not page:
                break
            stats += page
    if as_json:
        _print_json([asdict(s) for s in stats])
        return
    table = Table(title="queues")
    for col in ("queue", "paused", "limit", "queued", "running", "succeeded", "cancelled", "dead"):
        table.add_column(col)
    for s in stats:
        table.add_row(
            s.queue.name,
            "yes" if s.queue.paused else "",
            str(s.queue.concurrency_limit or ""),
            str(s.queued),
            str(s.running),
            str(s.succeeded),
            str(s.cancelled),
            str(s.dead),
        )
    Console().print(table)


@queues.command("pause")
@click.argument("queue")
@one_line_errors
def queues_pause(queue: str) -> None:
    """Pause QUEUE: nothing is claimed from it until resumed."""
    with _client() as client:
        client.pause_queue(queue)
    click.echo(f"queue {queue} paused")


@queues.command("resume")
@click.argument("queue")
@one_line_errors
def queues_resume(queue: str) -> None:
    """Resume QUEUE."""
    with _client() as client:
        client.resume_queue(queue)
    click.echo(f"queue {queue} resumed")


@main.command("reap")
@one_line_errors
def reap_cmd() -> None:
    """Expire overdue leases and mark silent executors offline (what pg_cron runs)."""
    with _client() as client:
        click.echo(json.dumps(client.reap()))


@main.command("doctor")
@one_line_errors
def doctor_cmd() -> None:
    """Check Collab's invariants; exit 1 and list the violations when any is found."""
    with _client() as client:
        found = client.check_invariants()
    if not found:
        click.echo("healthy: no invariant violation")
        return
    for v in found:
        click.echo(f"{v['invariant']}: job {v['job_id']} {json.dumps(v['detail'], default=str)}")
    sys.exit(1)


if __name__ == "__main__":
    main()
