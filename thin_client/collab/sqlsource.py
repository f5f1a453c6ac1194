"""The SQL sources: ``sql/schema.sql`` plus one object per file under ``sql/``.

Tables, types and indexes live in numbered alembic revisions and, for reading and for the
drift test, in ``sql/schema.sql``. Functions, views, triggers and policies live one object
per file; they are the source of truth. A revision that changes them carries a *snapshot*
(``migrations/snapshots/<rev>.sql``): the files concatenated at the time the revision was
made. Applying a revision resets the code objects of ``collab`` and ``api`` to exactly its
snapshot, so every database at a revision has the same code whatever it went through.
"""

from __future__ import annotations

from pathlib import Path

from collab.resources import migrations_dir, sql_dir

# Order matters only between kinds: views may call functions, triggers and policies need both.
OBJECT_KINDS = ("functions", "views", "triggers", "policies")
CODE_SCHEMAS = ("collab", "api")

# Drops every code object of the private and public schemas (functions, procedures, views,
# triggers, policies) so that a snapshot can be applied on a clean slate. Tables and data stay.
RESET_CODE = """
do $reset$
declare
  r record;
begin
  for r in
    select format('drop policy if exists %I on %I.%I', p.polname, n.nspname, c.relname) as stmt
      from pg_policy p join pg_class c on c.oid = p.polrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('collab', 'api')
  loop execute r.stmt; end loop;
  for r in
    select format('drop trigger if exists %I on %I.%I', t.tgname, n.nspname, c.relname) as stmt
      from pg_trigger t join pg_class c on c.oid = t.tgrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('collab', 'api') and not t.tgisinternal
  loop execute r.stmt; end loop;
  for r in
    select format('drop view if exists %I.%I cascade', n.nspname, c.relname) as stmt
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('collab', 'api') and c.relkind = 'v'
  loop execute r.stmt; end loop;
  for r in
    select format('drop %s if exists %s cascade',
                  case p.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'function' end,
                  p.oid::regprocedure) as stmt
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ('collab', 'api')
       and not exists (select 1 from pg_depend d
                        where d.objid = p.oid and d.deptype = 'e')
  loop execute r.stmt; end loop;
end
$reset$;
"""


def object_files(root: Path | None = None) -> list[Path]:
    base = root or sql_dir()
    files: list[Path] = []
    for kind in OBJECT_KINDS:
        folder = base / kind
        if folder.is_dir():
            files += sorted(folder.glob("*.sql"))
    return files


def render_snapshot(root: Path | None = None) -> str:
    """The current code objects as one SQL script (what a new revision stores)."""
    base = root or sql_dir()
    parts = [
        "-- Snapshot of the code objects under sql/, applied by its revision. Do not edit:\n"
        "-- change the files under sql/ and make a new revision (`collab migrate new`).\n"
        "set check_function_bodies = off;\n"
    ]
    for path in object_files(base):
        rel = path.relative_to(base).as_posix()
        parts.append(f"\n-- >>> {rel}\n{path.read_text().rstrip()}\n")
    parts.append(
        "\n-- Nothing private is executable by PUBLIC; the api files grant what they expose.\n"
        "revoke all on all functions in schema collab from public;\n"
        "reset check_function_bodies;\n"
    )
    return "".join(parts)


def snapshot_path(revision: str) -> Path:
    return migrations_dir() / "snapshots" / f"{revision}.sql"


def read_snapshot(revision: str) -> str:
    return snapshot_path(revision).read_text()


def schema_sql() -> str:
    return (sql_dir() / "schema.sql").read_text()


# Data-dependent structure made by code, as the revisions make it: the day partitions of
# collab.job_history from today on (revision 0009 calls the same function).
AFTER_BUILD = "select collab.ensure_job_history_partitions(7);\n"


def build_from_sources() -> str:
    """One script that builds the whole database straight from the sources (for the drift test)."""
    return schema_sql() + "\n" + render_snapshot() + "\n" + AFTER_BUILD
