"""No drift: a database built by the migrations equals one built straight from sql/.

Database A is migrated up with alembic (``collab.migrate.up``); database B runs
``collab.sqlsource.build_from_sources()`` (schema.sql plus every code object file). Both are
dumped with ``pg_dump --schema-only`` over the schemas collab, api and auth — privileges
included, because grants are part of the contract — and must be identical.
"""

from __future__ import annotations

import difflib
import subprocess
from collections.abc import Iterator

import psycopg
import pytest
from conftest import new_database
from helpers import drop_database, pg_bin

from collab import migrate, sqlsource


def schema_dump(url: str) -> list[str]:
    proc = subprocess.run(
        [
            pg_bin("pg_dump"),
            "--schema-only",
            "--no-owner",
            "-n",
            "collab",
            "-n",
            "api",
            "-n",
            "auth",
            "--exclude-table=public.alembic_version",
            "-d",
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"pg_dump failed: {proc.stderr.strip()}"
    return normalize(proc.stdout)


def normalize(dump: str) -> list[str]:
    """Drop what is no evidence of drift: comments, blank lines, pg_dump's per-run
    ``\\restrict`` keys, and indentation (revisions embed their SQL in indented Python
    strings, so a function body's leading whitespace differs from sql/ while its code
    does not)."""
    lines = []
    for raw in dump.splitlines():
        line = raw.strip()
        if not line or line.startswith(("--", "\\restrict ", "\\unrestrict ")):
            continue
        lines.append(line)
    return lines


@pytest.fixture
def two_databases(server_url: str) -> Iterator[tuple[str, str]]:
    name_a, url_a = new_database(server_url)
    name_b, url_b = new_database(server_url)
    yield url_a, url_b
    drop_database(server_url, name_a)
    drop_database(server_url, name_b)


def test_migrations_and_sources_build_the_same_schema(two_databases: tuple[str, str]) -> None:
    by_migrations, by_sources = two_databases
    migrate.up(by_migrations)
    with psycopg.connect(by_sources, autocommit=True) as conn:
        conn.execute(sqlsource.build_from_sources())  # no params: simple query protocol

    a = schema_dump(by_migrations)
    b = schema_dump(by_sources)

    assert any("CREATE SCHEMA collab" in line for line in a), "the dump is missing collab"
    diff = "\n".join(difflib.unified_diff(a, b, "migrate up", "sql/ sources", lineterm="", n=2))
    assert a == b, "the migrations and the sql/ sources differ:\n" + diff
