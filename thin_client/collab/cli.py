"""The ``collab`` command line: the embedded cluster, migrations, and (later) jobs and workers."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from collab import embedded, migrate
from collab.errors import CollabError

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(fn: F) -> F:
    """Turn every Collab error into one clear line on stderr and exit code 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CollabError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(package_name="collab")
def main() -> None:
    """Collab: a Postgres-native orchestration core for fleets of AI agents."""


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
    """Create the next revision, with a snapshot of the sql/ code objects."""
    rev = migrate.new(message)
    click.echo(f"created revision {rev} and migrations/snapshots/{rev}.sql")


if __name__ == "__main__":
    main()
