"""``collab secrets put | get | rotate | list | audit | delete | restore | init-key``: the key
vault (docs/vault.md), as the service role of the CLI's database. Values are read from stdin
or a hidden prompt, never from the command line (shell history). Registered by ``collab.cli``."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from collab import embedded
from collab.cli_common import client, one_line_errors, print_json, require_schema
from collab.vault import KeyVaultClient, install_master_key


def _value(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.read().rstrip("\n")
    return str(click.prompt("value", hide_input=True, confirmation_prompt=True))


@click.group("secrets")
def secrets() -> None:
    """Provider keys: encrypted, verified on every read, expiring, audited."""


@secrets.command("init-key")
@click.option("--next", "next_key", is_flag=True, help="the next key of a master key rotation")
@one_line_errors
def secrets_init_key(next_key: bool) -> None:
    """Have the database server generate the master key in its data directory (plain Postgres,
    superuser); a no-op when one is there."""
    install_master_key(embedded.database_url(), next_key=next_key)
    click.echo("master key installed" + (" (next)" if next_key else ""))


@secrets.command("put")
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True, help="read the value from stdin")
@click.option("--expires-at", type=click.DateTime(), help="expiry (UTC)")
@click.option("--cas", type=int, help="check-and-set: 0 create only, n only over version n")
@click.option("--description")
@one_line_errors
def secrets_put(
    name: str,
    from_stdin: bool,
    expires_at: datetime | None,
    cas: int | None,
    description: str | None,
) -> None:
    """Store a new version of NAME."""
    require_schema()  # nobody types a secret for a database that cannot store it
    value = _value(from_stdin)
    with client() as c:
        print_json(
            KeyVaultClient(c).put(
                name, value, expires_at=expires_at, cas=cas, description=description
            )
        )


@secrets.command("rotate")
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True, help="read the value from stdin")
@click.option("--expires-at", type=click.DateTime(), help="expiry (UTC)")
@one_line_errors
def secrets_rotate(name: str, from_stdin: bool, expires_at: datetime | None) -> None:
    """A new current version of NAME (the old one stays readable as previous)."""
    require_schema()
    value = _value(from_stdin)
    with client() as c:
        print_json(KeyVaultClient(c).rotate(name, value, expires_at=expires_at))


@secrets.command("get")
@click.argument("name")
@click.option("--label", type=click.Choice(["current", "previous"]), default="current")
@click.option("--version", type=int)
@one_line_errors
def secrets_get(name: str, label: str, version: int | None) -> None:
    """Print the verified value of NAME (audited)."""
    with client() as c:
        click.echo(KeyVaultClient(c).get(name, label, version))


@secrets.command("list")
@one_line_errors
def secrets_list() -> None:
    """Names, versions, expiry and deletion state (never values)."""
    with client() as c:
        print_json(KeyVaultClient(c).list(limit=1000))


@secrets.command("audit")
@click.argument("name", required=False)
@click.option("--limit", type=int, default=100, show_default=True)
@one_line_errors
def secrets_audit(name: str | None, limit: int) -> None:
    """The audit log (of NAME), newest first."""
    with client() as c:
        print_json(KeyVaultClient(c).audit(name, limit))


@secrets.command("delete")
@click.argument("name")
@click.option("--destroy", is_flag=True, help="remove every version, irreversibly")
@one_line_errors
def secrets_delete(name: str, destroy: bool) -> None:
    """Soft-delete NAME (restorable within the recovery window), or destroy it."""
    with client() as c:
        print_json(KeyVaultClient(c).delete(name, destroy))


@secrets.command("restore")
@click.argument("name")
@one_line_errors
def secrets_restore(name: str) -> None:
    """Undo a soft delete."""
    with client() as c:
        print_json(KeyVaultClient(c).restore(name))
