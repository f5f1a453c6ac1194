"""(Re)create a pgTAP test database on the test cluster, then run ``pg_prove`` over tests/sql.

Usage: ``python tests/tools/prepare_test_db.py [DBNAME] [--no-prove] [FILE ...]``

1. The server is ``COLLAB_TEST_SERVER_URL`` when set, otherwise the embedded test cluster
   (``COLLAB_PG_DIR``/``COLLAB_PG_PORT``; ``make pgtap`` passes ``.collab/test-pg`` and
   ``auto``), started when needed.
2. DBNAME (default ``collab_pgtap``) is dropped and created again, migrated up to head, and
   given the extensions pgtap and plpgsql_check and the ``tests`` helper schema
   (tests/sql/helpers/tests_schema.sql).
3. ``pg_prove`` runs every ``tests/sql/*.sql`` in sorted order (or the FILEs given), with
   PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE taken from the server URL. Its exit status
   is this script's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from collab import embedded, migrate
from collab.errors import CollabError

REPO = Path(__file__).resolve().parents[2]
SQL_TESTS = REPO / "tests" / "sql"
HELPERS = SQL_TESTS / "helpers" / "tests_schema.sql"

# pgTAP's functions land in `public`; tests call them after switching to the API roles.
# pgTAP keeps its state in temporary tables (results_eq, is_empty, ... create more as the
# caller): the migrations revoke TEMP from PUBLIC (docs/security.md), so the test database
# gives it back to the API roles, and to them only.
GRANT_PGTAP = """
grant usage on schema public to public;
grant execute on all functions in schema public to public, anon, authenticated, service_role;
do $temp$ begin
  execute format('grant temporary on database %I to anon, authenticated, service_role',
                 current_database());
end $temp$;
"""


def server_url() -> str:
    configured = os.environ.get("COLLAB_TEST_SERVER_URL")
    if configured:
        return configured
    cluster = embedded.EmbeddedPostgres()
    cluster.start()
    return cluster.url()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def recreate_database(url: str, name: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return with_database(url, name)


def prepare(url: str, name: str) -> str:
    """Create, migrate and equip the test database; return its URL."""
    db = recreate_database(url, name)
    migrate.up(db)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("create extension if not exists pgtap")
        conn.execute("create extension if not exists plpgsql_check")
        conn.execute(GRANT_PGTAP)  # no parameters: one simple-protocol script
        conn.execute(HELPERS.read_text())
    return db


def pg_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    env = dict(os.environ)
    env.update(
        PGHOST=parts.hostname or "127.0.0.1",
        PGPORT=str(parts.port or 5432),
        PGUSER=unquote(parts.username or "postgres"),
        PGPASSWORD=unquote(parts.password or ""),
        PGDATABASE=parts.path.lstrip("/"),
    )
    return env


def prove(url: str, files: list[str]) -> int:
    pg_prove = shutil.which("pg_prove")
    if pg_prove is None:
        print(
            "error: pg_prove not found: run `make setup` "
            "(Debian: libtap-parser-sourcehandler-pgtap-perl)",
            file=sys.stderr,
        )
        return 2
    targets = files or [str(p) for p in sorted(SQL_TESTS.glob("*.sql"))]
    if not targets:
        print("error: no pgTAP files under tests/sql", file=sys.stderr)
        return 2
    psql = embedded.find_psql()
    cmd = [pg_prove, "--psql-bin", psql, "--failures", "--comments", "--timer", *targets]
    return subprocess.run(cmd, env=pg_env(url), cwd=REPO, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dbname", nargs="?", default="collab_pgtap")
    parser.add_argument("--no-prove", action="store_true", help="prepare the database only")
    parser.add_argument("files", nargs="*", help="pgTAP files (default: tests/sql/*.sql)")
    args = parser.parse_args(argv)
    try:
        db = prepare(server_url(), args.dbname)
    except (CollabError, psycopg.Error) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"error: cannot prepare the test database {args.dbname}: {first}", file=sys.stderr)
        return 2
    if args.no_prove:
        print(db)
        return 0
    return prove(db, list(args.files))


if __name__ == "__main__":
    sys.exit(main())
