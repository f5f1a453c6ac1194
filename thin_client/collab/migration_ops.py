"""Operations the alembic revisions use to apply the code of a revision."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import op

from collab import sqlsource


@contextmanager
def _driver_cursor() -> Iterator[Any]:
    """A cursor of the revision's connection, straight from the driver."""
    dbapi = op.get_bind().connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def execute_script(sql: str) -> None:
    # Sent through the driver with no parameters: the simple query protocol runs a whole
    # script, with no bind-parameter parsing of ':' or '%'.
    with _driver_cursor() as cursor:
        cursor.execute(sql)


def reset_code() -> None:
    """Drop every function, view, trigger and policy of ``collab`` and ``api``."""
    execute_script(sqlsource.RESET_CODE)


def apply_snapshot(revision: str | None) -> None:
    """Create the code objects of ``revision``, rebuilt from ``migrations/code/`` (nothing for
    None)."""
    if revision is None:
        return
    execute_script(sqlsource.read_snapshot(revision))


def lock_code_tables(revision: str, also: tuple[str, ...] = ()) -> None:
    """Lock, in ACCESS EXCLUSIVE mode and in one LOCK statement, collab.jobs, every collab table
    whose triggers or policies ``reset_code`` drops and makes again, and the tables ``also``
    names, in tries of 150 ms of lock_timeout, 0.2 s apart, up to 200 times. A revision that
    resets the code calls it first, so that its switch never waits for a call that holds one
    of those tables while the call waits for another (a claim reads workspaces and queues
    before jobs), and a queue of claims never forms behind a long wait. The locks are held to
    the end of the revision's transaction: keep that transaction short."""
    execute_script(lock_code_tables_sql(revision, also))


def lock_code_tables_sql(
    revision: str, also: tuple[str, ...] = (), busy: str = "its tables stayed busy"
) -> str:
    """The DO block of ``lock_code_tables``; ``busy`` says what failed after the last try."""
    names = ", ".join(f"'{name}'" for name in also) or "null"
    return under_short_lock(
        revision,
        f"""-- Every table whose triggers or policies the code reset drops and makes again, and
      -- collab.jobs: all in one LOCK, so that the switch never waits for a claim that holds
      -- one of them while it waits for another (a claim reads workspaces and queues before jobs).
      execute 'lock table ' || (
        select string_agg(c.oid::regclass::text, ', ' order by c.oid)
          from pg_catalog.pg_class c
         where c.relnamespace = 'collab'::regnamespace and c.relkind in ('r', 'p')
           and (c.oid = 'collab.jobs'::regclass
                or c.oid::regclass::text = any(array[{names}]::text[])
                or exists (select 1 from pg_catalog.pg_policy p where p.polrelid = c.oid)
                or exists (select 1 from pg_catalog.pg_trigger t
                            where t.tgrelid = c.oid and not t.tgisinternal))
      ) || ' in access exclusive mode';
      perform pg_catalog.set_config('lock_timeout', '10s', true);""",
        f"{busy}; nothing was changed",
    )


def under_short_lock(revision: str, statement: str, failure: str) -> str:
    """A DO block that runs ``statement`` (DDL or LOCK that takes a strong lock) in tries of
    150 ms of lock_timeout, 0.2 s apart, up to 200 times, so that a queue of claims never forms
    behind a long wait; after the last try it raises ``revision <revision>: <failure>``."""
    return f"""
do $short_lock$
begin
  for attempt in 1..200 loop
    begin
      perform pg_catalog.set_config('lock_timeout', '150ms', true);
      {statement}
      return;
    exception when lock_not_available then
      perform pg_catalog.pg_sleep(0.2);
    end;
  end loop;
  raise exception 'revision {revision}: {failure}';
end
$short_lock$;
"""


def query_row(sql: str, params: tuple[object, ...] = ()) -> tuple[object, ...]:
    """The one row ``sql`` returns, through the driver (the revision's connection)."""
    with _driver_cursor() as cursor:
        cursor.execute(sql, params or None)
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def create_index_concurrently(name: str, definition: str) -> None:
    """Run ``definition`` (CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS {name} ...) for the
    collab index ``name``, outside a transaction (an autocommit block). An invalid index of that
    name (a build that was interrupted) is dropped and built again; a valid one is kept (the
    step was done)."""
    invalid = query_row(
        "select exists (select 1 from pg_catalog.pg_index i"
        " where i.indexrelid = pg_catalog.to_regclass(%s) and not i.indisvalid)",
        (f"collab.{name}",),
    )[0]
    if invalid:
        execute_script(f"drop index concurrently if exists collab.{name}")
    execute_script(definition.format(name=name))


def swap_primary_key(revision: str, table: str, index: str, failure: str) -> None:
    """Make the unique index ``index`` the primary key of collab.``table`` under a short lock
    (:func:`under_short_lock`): ALTER TABLE ... ADD PRIMARY KEY USING INDEX only records the
    index as the key, and the old key's index goes with its constraint. Done already when the
    index is gone (the swap renames it to ``<table>_pkey``)."""
    if query_row("select pg_catalog.to_regclass(%s) is not null", (f"collab.{index}",))[0]:
        execute_script(
            under_short_lock(
                revision,
                f"alter table collab.{table} drop constraint {table}_pkey,\n"
                f"        add constraint {table}_pkey primary key using index {index};",
                f"collab.{table} stayed busy; {failure}",
            )
        )
