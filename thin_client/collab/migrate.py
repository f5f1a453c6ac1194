"""``collab migrate``: alembic's Python API over the revisions shipped with the package."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from dataclasses import dataclass

import psycopg
import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from psycopg.conninfo import conninfo_to_dict

from collab import sqlsource
from collab.errors import SetupError
from collab.resources import migrations_dir


def sqlalchemy_url(dsn: str) -> str:
    """A libpq URL or key=value string as SQLAlchemy wants it (psycopg 3 driver)."""
    if "://" not in dsn:
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.ProgrammingError as exc:
            raise SetupError(f"not a database URL: {exc}") from exc
        port = params.pop("port", None)
        url = sqlalchemy.engine.URL.create(
            "postgresql+psycopg",
            username=str(params.pop("user", "") or "") or None,
            password=str(params.pop("password", "") or "") or None,
            host=str(params.pop("host", "") or "") or None,
            port=int(port) if port else None,
            database=str(params.pop("dbname", "") or "") or None,
            query={k: str(v) for k, v in params.items() if v is not None},
        )
        return url.render_as_string(hide_password=False)
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", dsn)


def alembic_config(dsn: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    # '%' must be doubled in configparser values.
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(dsn).replace("%", "%%"))
    return cfg


def _friendly(exc: Exception) -> SetupError:
    if isinstance(exc, sqlalchemy.exc.OperationalError):
        lines = [line for line in str(exc.orig).strip().splitlines() if line.strip()]
        return SetupError(f"cannot connect to the database: {lines[0] if lines else exc}")
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        first = str(exc.orig).strip().splitlines()[0]
        return SetupError(f"migration failed: {first}")
    if isinstance(exc, psycopg.Error):
        first = str(exc).strip().splitlines()[0]
        return SetupError(f"migration failed: {first}")
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SetupError(message)


def _run(fn: object, *args: object) -> None:
    try:
        fn(*args)  # type: ignore[operator]
    except (
        CommandError,
        sqlalchemy.exc.SQLAlchemyError,
        psycopg.Error,
        KeyError,
        ValueError,
    ) as exc:
        raise _friendly(exc) from exc


def up(dsn: str, revision: str = "head") -> None:
    _run(command.upgrade, alembic_config(dsn), revision)


def down(dsn: str, revision: str = "-1") -> None:
    _run(command.downgrade, alembic_config(dsn), revision)


@dataclass(frozen=True)
class MigrationStatus:
    current: str | None
    head: str
    pending: list[str]


def status(dsn: str) -> MigrationStatus:
    cfg = alembic_config(dsn)
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    assert head is not None
    try:
        engine = sqlalchemy.create_engine(sqlalchemy_url(dsn), poolclass=sqlalchemy.pool.NullPool)
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise _friendly(exc) from exc
    pending = [
        rev.revision
        for rev in reversed(list(script.walk_revisions(base="base", head="heads")))
        if current is None or rev.revision not in _ancestors(script, current)
    ]
    return MigrationStatus(current, head, pending)


def _ancestors(script: ScriptDirectory, revision: str) -> set[str]:
    return {rev.revision for rev in script.iterate_revisions(revision, "base")}


def new(message: str) -> str:
    """Create the next numbered revision and record the current sql/ code objects as its code."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    number = int(head) + 1 if head and head.isdigit() else 1
    rev_id = f"{number:04d}"
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40] or "revision"
    with redirect_stdout(io.StringIO()):
        command.revision(cfg, message=message, rev_id=rev_id)
    generated = migrations_dir() / "versions" / f"{rev_id}_{slug}.py"
    for path in (migrations_dir() / "versions").glob(f"{rev_id}_*.py"):
        if path != generated:
            path.rename(generated)
    write_snapshot(rev_id)
    return rev_id


def write_snapshot(revision: str) -> list[str]:
    """Record the current sql/ code objects as ``revision``'s code: its manifest, and copies of
    the objects that differ from the previous revision's rebuilt code (``migrations/code/``).
    Run it again while the revision is the newest; a revision that a later one builds on is
    frozen. Returns the names of the objects the revision stores."""
    return list(sqlsource.write_code(revision, sqlsource.current_code()))
