"""Supabase Realtime's Postgres Changes and the partitioned event stream (revision 0029).

Realtime reads a logical slot with wal2json, asking for the tables that
``pg_publication_tables`` lists for the publication ``supabase_realtime`` (its
``realtime.list_changes``: wal2json's ``add-tables``, format version 2), and matches each row
to the subscriptions on the table the row names. ``realtime_read`` below reads the same way,
with the real plugin (Debian's postgresql-15-wal2json, which Supabase's Postgres ships too).

- At revision 0028 the stream is one plain table in the publication, and an event reaches
  Realtime named ``collab.job_events``.
- wal2json names each row of a partitioned table by its partition: with the root in the
  publication, the rows come named ``job_events_<from>`` when ``publish_via_partition_root``
  is off (the publication lists the partitions) and not at all when it is on (it lists the
  root alone). Either way no row reaches a subscription to ``collab.job_events``. The tests
  pin that, the reason for what 0029 does, so that a plugin that changes it fails them.
- So 0029 takes the stream (the old table, now a partition, included) out of the publication
  and leaves the publication's options alone: ``publish_via_partition_root`` on would have
  hidden the rows of a project's own partitions, which wal2json names by partition, from the
  subscriptions to them. Broadcast (tests/sql/204) and ``api.events_since`` carry the stream.
- Down to 0028, the plain table is back in the publication and its events reach Realtime.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from collab import migrate

SLOT = f"collab_wal2json_{os.getpid()}"
# Where the server names the plugins a session may decode with (a superuser setting, in
# Debian's Postgres 15), wal2json is added, as Supabase's Postgres allows it for Realtime; set
# in each session that makes or reads the slot.
PLUGINS = (
    "select set_config('output_plugin_libraries', 'pgoutput, test_decoding, wal2json', false)"
    " from pg_settings where name = 'output_plugin_libraries'"
)


@contextmanager
def wal2json_slot(url: str) -> Iterator[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(PLUGINS)
        conn.execute("select pg_create_logical_replication_slot(%s, 'wal2json')", [SLOT])
    try:
        yield SLOT
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("select pg_drop_replication_slot(%s)", [SLOT])


def wal2json_name(name: str) -> str:
    """A name as wal2json's add-tables takes it: backslash before '\\', ',', '.' and spaces."""
    return re.sub(r"([\\,.\s])", r"\\\1", name)


def realtime_read(url: str, slot: str) -> list[dict[str, Any]]:
    """The changes Realtime would take from the slot now: the tables pg_publication_tables lists
    for supabase_realtime, one JSON object per row (wal2json format 2, without transactions).
    With no table listed, Realtime takes nothing (the slot is read all the same)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(PLUGINS)
        listed = conn.execute(
            "select schemaname, tablename from pg_publication_tables"
            " where pubname = 'supabase_realtime' order by 1, 2"
        ).fetchall()
        tables = ",".join(f"{wal2json_name(s)}.{wal2json_name(t)}" for s, t in listed)
        options = ["format-version", "2", "include-transaction", "false"]
        options += ["actions", "insert,update,delete", "add-tables", tables or "none.none"]
        rows = conn.execute(
            "select data from pg_logical_slot_get_changes(%s, null, null, variadic %s::text[])",
            [slot, options],
        ).fetchall()
    return [json.loads(str(r[0])) for r in rows] if tables else []


def run(url: str, *statements: str) -> None:
    """Each statement in its own transaction, as the superuser."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.encode())


def enqueue(url: str) -> None:
    run(url, "select api.enqueue('rt', 't')")


def event_types(changes: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(table, action, event type) of each change of a collab table."""
    out = []
    for change in changes:
        if change.get("schema") != "collab":
            continue
        columns = {c["name"]: c["value"] for c in change.get("columns", [])}
        out.append((change["table"], change["action"], str(columns.get("type"))))
    return out


def publication(url: str) -> tuple[bool, list[str]]:
    """supabase_realtime's publish_via_partition_root and its members (explicit ones)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select p.pubviaroot,"
            "       array(select r.prrelid::regclass::text from pg_publication_rel r"
            "              where r.prpubid = p.oid order by 1)"
            "  from pg_publication p where p.pubname = 'supabase_realtime'"
        ).fetchone()
    assert row is not None
    return bool(row[0]), list(row[1])


def supabase_publication(url: str) -> None:
    """The publication as a Supabase project has it before Collab: its own options (none set)
    and a table of the project's."""
    run(
        url,
        "create table public.notes (id bigint primary key, body text)",
        "create publication supabase_realtime for table public.notes",
    )


def test_the_stream_leaves_the_publication_that_cannot_carry_it_and_comes_back_down(
    fresh_db: str,
) -> None:
    supabase_publication(fresh_db)
    migrate.up(fresh_db, "0028")
    assert publication(fresh_db) == (False, ["collab.job_events", "notes"])
    with wal2json_slot(fresh_db) as slot:
        enqueue(fresh_db)
        assert event_types(realtime_read(fresh_db, slot)) == [("job_events", "I", "enqueued")], (
            "0028: the plain table's event reaches Realtime under its name"
        )

        migrate.up(fresh_db)
        realtime_read(fresh_db, slot)  # what the migration wrote
        assert publication(fresh_db) == (False, ["notes"]), (
            "0029: the stream and its old table (now a partition) leave the publication; its"
            " options and the project's table stay"
        )
        enqueue(fresh_db)
        assert event_types(realtime_read(fresh_db, slot)) == []

        # Why: with the partitioned stream in the publication, no row comes named job_events.
        run(fresh_db, "alter publication supabase_realtime add table collab.job_events")
        enqueue(fresh_db)
        by_partition = event_types(realtime_read(fresh_db, slot))
        assert [(a, t) for _, a, t in by_partition] == [("I", "enqueued")]
        assert by_partition[0][0].startswith("job_events_"), by_partition
        run(fresh_db, "alter publication supabase_realtime set (publish_via_partition_root = true)")
        enqueue(fresh_db)
        assert event_types(realtime_read(fresh_db, slot)) == [], (
            "the root alone listed: wal2json names the row by its partition and drops it"
        )
        run(
            fresh_db,
            "alter publication supabase_realtime set (publish_via_partition_root = false)",
            "alter publication supabase_realtime drop table collab.job_events",
        )

        migrate.down(fresh_db, "0028")
        realtime_read(fresh_db, slot)  # what the migration wrote
        assert publication(fresh_db) == (False, ["collab.job_events", "notes"])
        enqueue(fresh_db)
        assert event_types(realtime_read(fresh_db, slot)) == [("job_events", "I", "enqueued")]


def test_a_new_database_never_publishes_the_partitioned_stream(fresh_db: str) -> None:
    supabase_publication(fresh_db)
    migrate.up(fresh_db)
    assert publication(fresh_db) == (False, ["notes"])


def test_a_publication_for_all_tables_is_left_as_it_is(fresh_db: str) -> None:
    """Realtime's own development setup makes supabase_realtime FOR ALL TABLES, which refuses
    ADD and DROP TABLE: the migrations leave it alone, up and down."""
    run(fresh_db, "create publication supabase_realtime for all tables")
    migrate.up(fresh_db)
    migrate.down(fresh_db, "0028")
    migrate.up(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        row = conn.execute(
            "select puballtables, pubviaroot,"
            "       (select count(*) from pg_publication_rel r where r.prpubid = p.oid)"
            "  from pg_publication p where pubname = 'supabase_realtime'"
        ).fetchone()
    assert row == (True, False, 0)
