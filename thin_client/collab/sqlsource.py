"""The SQL sources: ``sql/schema.sql`` plus one object per file under ``sql/``.

Tables, types and indexes live in numbered alembic revisions and, for reading and for the
drift test, in ``sql/schema.sql``. Functions, views, triggers and policies live one object
per file; they are the source of truth. Each revision records its code under
``migrations/code/<rev>/``: a ``manifest`` naming every code object present at that revision
(in the order applied), and a copy of only those objects it added or changed. The complete
code of a revision is rebuilt from its manifest, each name taking the newest copy stored at a
revision at or before it; the copies of a revision are never rewritten once a later revision
exists. Applying a revision resets the code objects of ``collab`` and ``api`` to exactly that
code, so every database at a revision has the same code whatever it went through.
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


# The frame of every code script: stored like the objects (``prologue.sql`` first and
# ``epilogue.sql`` last in each manifest), so that a change to it is a change of a revision too.
PROLOGUE = "prologue.sql"
EPILOGUE = "epilogue.sql"
_FRAME = {
    PROLOGUE: (
        "-- Snapshot of the code objects under sql/, applied by its revision. Do not edit:\n"
        "-- change the files under sql/ and make a new revision (`collab migrate new`).\n"
        "set check_function_bodies = off;\n"
    ),
    EPILOGUE: (
        "\n-- Nothing private is executable by PUBLIC; the api files grant what they expose.\n"
        "revoke all on all functions in schema collab from public;\n"
        "reset check_function_bodies;\n"
    ),
}
MANIFEST = "manifest"
_MANIFEST_HEADER = (
    "# Every code object of this revision, in the order applied (collab.sqlsource).\n"
)

# Code: object name (a path relative to sql/, or a frame part) -> its text, in the order applied.
Code = dict[str, str]


def object_files(root: Path | None = None) -> list[Path]:
    base = root or sql_dir()
    files: list[Path] = []
    for kind in OBJECT_KINDS:
        folder = base / kind
        if folder.is_dir():
            files += sorted(folder.glob("*.sql"))
    return files


def current_code(root: Path | None = None) -> Code:
    """The code objects under ``sql/`` now, framed, in the order applied."""
    base = root or sql_dir()
    code: Code = {PROLOGUE: _FRAME[PROLOGUE]}
    for path in object_files(base):
        code[path.relative_to(base).as_posix()] = path.read_text().rstrip() + "\n"
    code[EPILOGUE] = _FRAME[EPILOGUE]
    return code


def render(code: Code) -> str:
    """One SQL script creating ``code``: the frame parts as they are, each object marked."""
    return "".join(
        text if name in _FRAME else f"\n-- >>> {name}\n{text}" for name, text in code.items()
    )


def render_snapshot(root: Path | None = None) -> str:
    """The current code objects as one SQL script (what the newest revision must rebuild)."""
    return render(current_code(root))


# -- the code stored with the revisions -----------------------------------------------------------
def code_root(migrations: Path | None = None) -> Path:
    return (migrations or migrations_dir()) / "code"


def code_revisions(migrations: Path | None = None) -> list[str]:
    """The revisions that record code (those with a manifest), oldest first."""
    root = code_root(migrations)
    if not root.is_dir():
        return []
    found = [d.name for d in root.iterdir() if (d / MANIFEST).is_file()]
    for name in found:
        if not name.isdigit():
            raise ValueError(f"{root / name}: revisions that record code are numbered")
    return sorted(found, key=int)


def read_manifest(revision: str, migrations: Path | None = None) -> list[str] | None:
    """The names listed by ``revision``'s manifest, or None when it records no code."""
    path = code_root(migrations) / revision / MANIFEST
    if not path.is_file():
        return None
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def stored_files(revision: str, migrations: Path | None = None) -> Code:
    """The copies stored with ``revision`` (what it added or changed), by name."""
    folder = code_root(migrations) / revision
    return {
        path.relative_to(folder).as_posix(): path.read_text()
        for path in sorted(folder.rglob("*.sql"))
        if path.is_file()
    }


def rebuild_code(revision: str, migrations: Path | None = None) -> Code | None:
    """The complete code of ``revision`` (None when it records none): for each name of its
    manifest, the newest copy stored at a revision at or before it."""
    names = read_manifest(revision, migrations)
    if names is None:
        return None
    root = code_root(migrations)
    chain = [r for r in code_revisions(migrations) if int(r) <= int(revision)]
    code: Code = {}
    for name in names:
        for rev in reversed(chain):
            path = root / rev / name
            if path.is_file():
                code[name] = path.read_text()
                break
        else:
            raise ValueError(f"revision {revision} lists {name}, stored by no revision up to it")
    return code


def rebuild_snapshot(revision: str, migrations: Path | None = None) -> str | None:
    """The code script of ``revision`` (None when it records no code)."""
    code = rebuild_code(revision, migrations)
    return None if code is None else render(code)


def read_snapshot(revision: str) -> str:
    script = rebuild_snapshot(revision)
    if script is None:
        raise FileNotFoundError(f"revision {revision} records no code ({MANIFEST} missing)")
    return script


def previous_code(revision: str, migrations: Path | None = None) -> Code:
    """The complete code of the newest revision before ``revision`` that records code."""
    earlier = [r for r in code_revisions(migrations) if int(r) < int(revision)]
    return (rebuild_code(earlier[-1], migrations) or {}) if earlier else {}


def delta(previous: Code, code: Code) -> Code:
    """The objects of ``code`` that ``previous`` lacks or holds with another text."""
    return {name: text for name, text in code.items() if previous.get(name) != text}


def write_code(revision: str, code: Code, migrations: Path | None = None) -> Code:
    """Record ``code`` as ``revision``'s: its manifest, and copies of the objects that differ
    from the previous revision's code (stale copies of an earlier call are removed). Refused
    for a revision that a later one already builds on. Returns the copies stored."""
    if not revision.isdigit():
        raise ValueError(f"revision {revision!r}: revisions that record code are numbered")
    later = [r for r in code_revisions(migrations) if int(r) > int(revision)]
    if later:
        raise ValueError(
            f"revision {revision} is frozen: revision {later[0]} builds on its code; "
            "record changes in the newest revision"
        )
    changed = delta(previous_code(revision, migrations), code)
    folder = code_root(migrations) / revision
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in changed.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
    for name in set(stored_files(revision, migrations)) - set(changed):
        (folder / name).unlink()
    for sub in sorted(folder.rglob("*"), reverse=True):
        if sub.is_dir() and not any(sub.iterdir()):
            sub.rmdir()
    (folder / MANIFEST).write_text(_MANIFEST_HEADER + "".join(f"{name}\n" for name in code))
    return changed


def schema_sql() -> str:
    return (sql_dir() / "schema.sql").read_text()


# Data-dependent structure made by code, as the revisions make it: the day partitions of
# collab.job_history from today on (revision 0009 calls the same function).
AFTER_BUILD = "select collab.ensure_job_history_partitions(7);\n"


def build_from_sources() -> str:
    """One script that builds the whole database straight from the sources (for the drift test)."""
    return schema_sql() + "\n" + render_snapshot() + "\n" + AFTER_BUILD
