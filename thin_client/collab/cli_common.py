"""What every ``collab`` subcommand module shares: the client it acts with, JSON output, and the
rule that every error is one clear line on stderr with exit status 1.

The CLI's layout has no import cycle: ``cli_common`` imports no CLI module; ``cli_events``,
``cli_metrics`` and ``cli_stack`` import ``cli_common`` and define their commands; ``cli``
imports them all and registers their commands on ``main``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import click
import psycopg

from collab import embedded
from collab.client import Client
from collab.errors import CollabError

F = TypeVar("F", bound=Callable[..., Any])

# What a database without Collab's schema answers to an api call.
_UNMIGRATED = (
    psycopg.errors.InvalidSchemaName,  # schema "api" does not exist
    psycopg.errors.UndefinedFunction,
    psycopg.errors.UndefinedTable,
    psycopg.errors.UndefinedObject,
)


def client() -> Client:
    """A client of the database every command uses (``collab db url``)."""
    return Client(embedded.database_url(), max_size=4)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, default=str, indent=2))


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def unmigrated_message() -> str | None:
    """The line to print when the database has no ``api`` schema (None when it has one)."""
    try:
        url = embedded.database_url()
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("select to_regnamespace('api') is not null").fetchone()
    except (psycopg.Error, CollabError, OSError):
        return None
    if row is not None and row[0]:
        return None
    return (
        f"the database {_without_password(url)} is not migrated (it has no schema api): "
        "run `collab migrate up` there, or point COLLAB_DATABASE_URL at a migrated database "
        "(`make demo` leaves one: the URL it prints at the end)"
    )


def require_schema() -> None:
    """Stop before asking for input that could not be used: a database without the schema gets
    the same one line as a failed call (``one_line_errors`` prints it)."""
    unmigrated = unmigrated_message()
    if unmigrated is not None:
        raise CollabError(unmigrated)


def one_line_errors(fn: F) -> F:
    """Turn every Collab error into one clear line on stderr and exit code 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CollabError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except psycopg.OperationalError as exc:
            first = (str(exc).strip().splitlines() or ["connection failed"])[0]
            click.echo(f"error: cannot reach the database: {first}", err=True)
            sys.exit(1)
        except psycopg.Error as exc:
            unmigrated = unmigrated_message() if isinstance(exc, _UNMIGRATED) else None
            if unmigrated is not None:
                click.echo(f"error: {unmigrated}", err=True)
                sys.exit(1)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            click.echo(f"error: {first}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
