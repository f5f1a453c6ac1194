"""Migrations go down to base and up again, also on a database that holds rows."""

from __future__ import annotations

import psycopg
from alembic.config import Config
from alembic.script import ScriptDirectory
from helpers import schemas

from collab import migrate
from collab.resources import migrations_dir


def revisions() -> list[str]:
    """Every revision, oldest first."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    script = ScriptDirectory.from_config(cfg)
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


def test_down_to_base_removes_everything_and_up_again_reaches_head(fresh_db: str) -> None:
    migrate.up(fresh_db)
    head = migrate.status(fresh_db).head
    assert migrate.status(fresh_db).current == head

    migrate.down(fresh_db, "base")

    assert migrate.status(fresh_db).current is None
    assert {"collab", "api"}.isdisjoint(schemas(fresh_db))

    migrate.up(fresh_db)

    st = migrate.status(fresh_db)
    assert st.current == head
    assert st.pending == []
    assert {"collab", "api", "auth"} <= schemas(fresh_db)


def test_every_revision_goes_down_and_up_one_step(fresh_db: str) -> None:
    for revision in revisions():
        migrate.up(fresh_db, revision)
        assert migrate.status(fresh_db).current == revision
        migrate.down(fresh_db, "-1")
        migrate.up(fresh_db, revision)
        assert migrate.status(fresh_db).current == revision


def _has_enqueue(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("select to_regproc('api.enqueue') is not null").fetchone()
    return bool(row and row[0])


def test_a_database_holding_rows_survives_down_one_revision_and_up(fresh_db: str) -> None:
    migrate.up(fresh_db)
    head = migrate.status(fresh_db).head
    enqueued = None
    if _has_enqueue(fresh_db):
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            row = conn.execute("select (api.enqueue('q', 't', '{\"n\": 1}'::jsonb)).id").fetchone()
        assert row is not None
        enqueued = row[0]

    migrate.down(fresh_db, "-1")
    assert migrate.status(fresh_db).current != head
    migrate.up(fresh_db)
    assert migrate.status(fresh_db).current == head

    if enqueued is not None:
        with psycopg.connect(fresh_db) as conn:
            row = conn.execute(
                "select type, payload from collab.jobs where id = %s", [enqueued]
            ).fetchone()
        assert row == ("t", {"n": 1}), "the job enqueued before down/up is still there"
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            conn.execute("select api.enqueue('q', 't2', '{}'::jsonb)")
