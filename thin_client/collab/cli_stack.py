"""``collab stack up | down | status | env`` and ``collab token``: Supabase's shape, locally.

Registered by ``collab.cli`` (``main.add_command``); of the CLI it imports only
``collab.cli_common`` (which imports no command module), so it adds no import cycle.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import click

from collab import cli_common, config, embedded, migrate
from collab import stack as stack_mod
from collab.errors import CollabError

# Every Collab error as one line on stderr, exit 1: the same rule as every other command.
_one_line = cli_common.one_line_errors


@click.group("stack")
def stack() -> None:
    """The Supabase-shaped stack: the database, the real PostgREST, nginx and the gateway on
    :54321."""


@stack.command("up")
@_one_line
def stack_up() -> None:
    """Start the database (migrated), PostgREST, the gateway and nginx; a no-op when they run."""
    the_stack = stack_mod.Stack()
    if the_stack.running():
        click.echo("the stack is already running")
        click.echo("\n".join(the_stack.status_lines()))
        return
    override = config.database_url_override()
    started_db = False
    db_dir: str | None = None
    if override:
        db_url = override
    else:
        cluster = embedded.EmbeddedPostgres()
        previous = the_stack.state()  # a half-started stack: did its `up` start the cluster?
        started_db = not cluster.status().running or (
            previous is not None and previous.started_db and previous.db_dir == str(cluster.base)
        )
        cluster.start()
        db_url, db_dir = cluster.url(), str(cluster.base)
    try:
        migrate.up(db_url)
        the_stack.up(db_url, started_db=started_db, db_dir=db_dir)
    except BaseException:
        if started_db and db_dir:
            embedded.EmbeddedPostgres(base=Path(db_dir)).stop()
        raise
    click.echo("the stack is up")
    click.echo("\n".join(the_stack.status_lines()))


@stack.command("down")
@_one_line
def stack_down() -> None:
    """Stop what `collab stack up` started, and only that."""
    stopped = stack_mod.Stack().down()
    click.echo("stopped: " + ", ".join(stopped) if stopped else "the stack was not running")


@stack.command("status")
@_one_line
def stack_status() -> None:
    """URLs, keys and the JWT secret (as `supabase status`); exit 3 when not running."""
    the_stack = stack_mod.Stack()
    if not the_stack.running():
        click.echo("the stack is not running: run `collab stack up`")
        sys.exit(3)
    click.echo("\n".join(the_stack.status_lines()))


@stack.command("env")
@_one_line
def stack_env() -> None:
    """Shell exports: eval "$(collab stack env)"."""
    click.echo("\n".join(stack_mod.Stack().env_lines()))


def _uuid(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise CollabError(f"{option} must be a UUID, got {value!r}") from exc


@click.command("token")
@click.option(
    "--role",
    type=click.Choice(["authenticated", "anon", "service_role"]),
    default="authenticated",
    show_default=True,
)
@click.option("--sub", default=None, help="The user id (UUID); required for authenticated.")
@click.option("--workspace", default=None, help="The workspace_id claim (UUID).")
@click.option("--ttl", default="1h", show_default=True, help="Lifetime: 3600, 15m, 1h, 7d.")
@_one_line
def token(role: str, sub: str | None, workspace: str | None, ttl: str) -> None:
    """Mint a development JWT (HS256, the stack's secret or COLLAB_JWT_SECRET)."""
    if role == "authenticated" and sub is None:
        raise CollabError("--sub UUID is required for --role authenticated")
    click.echo(
        stack_mod.mint_token(
            stack_mod.signing_secret(),
            role,
            sub=_uuid(sub, "--sub"),
            workspace=_uuid(workspace, "--workspace"),
            ttl=stack_mod.parse_ttl(ttl),
        )
    )
