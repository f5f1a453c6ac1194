"""collab.sqlsource.write_code / rebuild_code on a scratch tree: a revision stores only what
it adds or changes, drops are explicit in its manifest, earlier revisions keep their code, and
a revision that a later one builds on cannot be rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from collab import sqlsource


def write_sql(root: Path, files: dict[str, str]) -> None:
    for kind in sqlsource.OBJECT_KINDS:
        folder = root / kind
        if folder.is_dir():
            for path in folder.glob("*.sql"):
                path.unlink()
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def record(sql: Path, migrations: Path, revision: str) -> set[str]:
    return set(sqlsource.write_code(revision, sqlsource.current_code(sql), migrations))


def test_revisions_store_their_changes_and_rebuild_their_complete_code(tmp_path: Path) -> None:
    sql, migrations = tmp_path / "sql", tmp_path / "migrations"
    first = {
        "functions/collab.a.sql": "create function collab.a() returns int language sql as 'select 1';\n",
        "functions/collab.b.sql": "create function collab.b() returns int language sql as 'select 2';\n",
        "policies/jobs.p.sql": "create policy p on collab.jobs using (true);\n",
    }
    write_sql(sql, first)
    assert record(sql, migrations, "0002") == {
        sqlsource.PROLOGUE,
        *first,
        sqlsource.EPILOGUE,
    }
    script_0002 = sqlsource.rebuild_snapshot("0002", migrations)
    assert script_0002 == sqlsource.render_snapshot(sql)

    # 0003: b changed, a dropped, c added (a trigger: applied after the functions).
    second = {
        "functions/collab.b.sql": "create function collab.b() returns int language sql as 'select 3';\n",
        "triggers/collab.jobs.t.sql": "create trigger t after insert on collab.jobs execute function collab.b();\n",
        "policies/jobs.p.sql": first["policies/jobs.p.sql"],
    }
    write_sql(sql, second)
    assert record(sql, migrations, "0003") == {
        "functions/collab.b.sql",
        "triggers/collab.jobs.t.sql",
    }
    assert sqlsource.read_manifest("0003", migrations) == [
        sqlsource.PROLOGUE,
        "functions/collab.b.sql",
        "triggers/collab.jobs.t.sql",
        "policies/jobs.p.sql",
        sqlsource.EPILOGUE,
    ]
    assert sqlsource.rebuild_snapshot("0003", migrations) == sqlsource.render_snapshot(sql)
    assert sqlsource.rebuild_snapshot("0002", migrations) == script_0002

    # Recording 0003 again after reverting b removes its now stale copy.
    write_sql(sql, {**second, "functions/collab.b.sql": first["functions/collab.b.sql"]})
    assert record(sql, migrations, "0003") == {"triggers/collab.jobs.t.sql"}
    assert set(sqlsource.stored_files("0003", migrations)) == {"triggers/collab.jobs.t.sql"}
    assert sqlsource.rebuild_snapshot("0003", migrations) == sqlsource.render_snapshot(sql)

    # 0004 re-adds a, dropped by 0003, with its old text: stored again, since 0003 lacks it.
    write_sql(sql, {**second, "functions/collab.a.sql": first["functions/collab.a.sql"]})
    assert record(sql, migrations, "0004") == {"functions/collab.a.sql", "functions/collab.b.sql"}
    assert sqlsource.rebuild_snapshot("0004", migrations) == sqlsource.render_snapshot(sql)
    assert sqlsource.rebuild_snapshot("0002", migrations) == script_0002

    # 0003 is frozen now that 0004 builds on it.
    with pytest.raises(ValueError, match="frozen"):
        record(sql, migrations, "0003")
    assert sqlsource.rebuild_snapshot("0002", migrations) == script_0002


def test_a_revision_with_no_manifest_records_no_code_and_a_missing_copy_is_an_error(
    tmp_path: Path,
) -> None:
    migrations = tmp_path / "migrations"
    assert sqlsource.rebuild_code("0002", migrations) is None
    folder = sqlsource.code_root(migrations) / "0002"
    folder.mkdir(parents=True)
    (folder / sqlsource.MANIFEST).write_text("functions/collab.a.sql\n")
    with pytest.raises(ValueError, match=r"collab\.a\.sql"):
        sqlsource.rebuild_code("0002", migrations)
