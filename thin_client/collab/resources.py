"""Where the SQL sources and the alembic migrations are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _locate(installed: str, checkout: str) -> Path:
    inside = _PACKAGE / installed
    if inside.is_dir():
        return inside
    repo = _PACKAGE.parent.parent / checkout
    if repo.is_dir():
        return repo
    raise FileNotFoundError(f"{checkout}/ is missing from this installation of collab")


def sql_dir() -> Path:
    return _locate("_sql", "sql")


def migrations_dir() -> Path:
    return _locate("_migrations", "migrations")
