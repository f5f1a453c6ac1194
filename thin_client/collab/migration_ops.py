"""Operations the alembic revisions use to apply the code of a revision."""

from __future__ import annotations

from alembic import op

from collab import sqlsource


def execute_script(sql: str) -> None:
    # Sent through the driver with no parameters: the simple query protocol runs a whole
    # script, with no bind-parameter parsing of ':' or '%'.
    dbapi = op.get_bind().connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def reset_code() -> None:
    """Drop every function, view, trigger and policy of ``collab`` and ``api``."""
    execute_script(sqlsource.RESET_CODE)


def apply_snapshot(revision: str | None) -> None:
    """Create the code objects of ``revision``, rebuilt from ``migrations/code/`` (nothing for
    None)."""
    if revision is None:
        return
    execute_script(sqlsource.read_snapshot(revision))
