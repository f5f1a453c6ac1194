"""Alembic environment: one transaction per revision (Postgres has transactional DDL).

Per revision, not one for the whole run: a revision that switches the code holds its tables'
locks to the end of its transaction (collab.migration_ops.lock_code_tables), so with one
transaction for a run the first switch's locks stayed held through every later revision, and
claims waited for all of them (more than a second from 0008 to 0028:
tests/py/migration/test_online_0009.py). A failed revision still leaves nothing of itself
applied; the revisions before it stay applied, and `collab migrate up` goes on from there.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url is set by collab.migrate"


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text("set lock_timeout = '10s'"))
        connection.execute(text("set client_min_messages = warning"))
        connection.commit()  # session settings stay; alembic then owns each revision's transaction
        context.configure(
            connection=connection, transactional_ddl=True, transaction_per_migration=True
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
