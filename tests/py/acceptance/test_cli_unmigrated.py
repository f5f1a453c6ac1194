"""Every command that acts on Collab's schema, run against a database nobody migrated, says what
to run instead: one line, naming the database (without its password) and `collab migrate up`,
never Postgres' `schema "api" does not exist` (issue 13: after `make demo`, `collab jobs list`
answered that, because the demo ran in a database of its own).

The commands come from the CLI itself, so a new one is covered by default; the commands that
do not need the schema (the cluster, migrations, the stack, tokens) are the only exceptions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import click
import pytest
from click.testing import CliRunner
from helpers import create_database, drop_database

from collab.cli import main

NEEDS_NO_SCHEMA = {"db", "migrate", "stack", "token"}
# Subcommands that never need the schema: build-sets reads the installed Debian packages,
# init-key writes the vault's master key beside the cluster (docs/vault.md).
SUBCOMMANDS_WITHOUT_SCHEMA = {("search", "build-sets"), ("secrets", "init-key")}
SAMPLE = {"integer": "1", "text": "q", "file": os.devnull, "path": os.devnull}
# Commands that need more than their required arguments to get as far as the database.
EXTRA_ARGS = {("dlq", "requeue"): ["--all"], ("worker",): ["--queue", "q"]}


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if (not path and name in NEEDS_NO_SCHEMA) or (*path, name) in SUBCOMMANDS_WITHOUT_SCHEMA:
            continue
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield (*path, name)
            yield from commands(command, (*path, name))
        else:
            yield (*path, name)


def arguments(path: tuple[str, ...]) -> list[str]:
    command: Any = main
    for name in path:
        command = command.commands[name]
    required = [
        SAMPLE[p.type.name] for p in command.params if isinstance(p, click.Argument) and p.required
    ]
    options = [
        [p.opts[0], SAMPLE.get(p.type.name, "q")]
        for p in command.params
        if isinstance(p, click.Option) and p.required
    ]
    return [*path, *required, *(a for o in options for a in o), *EXTRA_ARGS.get(path, [])]


@pytest.fixture(scope="module")
def unmigrated_url(server_url: str) -> Iterator[str]:
    name = f"collab_t_{os.getpid()}_unmigrated"
    url = create_database(server_url, name)
    yield url
    drop_database(server_url, name)


@pytest.mark.parametrize("path", list(commands(main)), ids=" ".join)
def test_a_command_on_an_unmigrated_database_says_what_to_run(
    path: tuple[str, ...], unmigrated_url: str
) -> None:
    args = arguments(path)
    if path == ("metrics", "serve"):
        args += ["--port", "0"]
    result = CliRunner().invoke(
        main, args, env={"COLLAB_DATABASE_URL": unmigrated_url}, input="secret\n"
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 1, (args, result.output)
    assert len(lines) == 1, result.stderr
    assert "not migrated" in lines[0] and "collab migrate up" in lines[0], lines[0]
    assert "does not exist" not in lines[0]
    assert "postgres:postgres@" not in lines[0]  # the password is not printed


def test_every_command_is_covered() -> None:
    covered = {" ".join(p) for p in commands(main)}
    assert {"jobs list", "enqueue", "worker", "events tail", "metrics", "metrics serve"} <= covered
