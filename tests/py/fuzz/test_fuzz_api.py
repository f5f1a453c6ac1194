"""Hypothesis drives every ``api`` function with bad input, as every role.

The functions come from the catalog (``pg_proc`` in schema ``api``), so a new function is
fuzzed without touching this file: each argument gets a generic strategy for its SQL type —
text (empty, huge, any unicode, NUL bytes), jsonb (any JSON, wrong shapes, objects with the
keys the api uses, deep nesting, huge), integers (negative, enormous, out of range), uuids
(random or known), intervals, timestamps (incl. infinity), arrays with nulls, and null — and
arguments with a default are sometimes left out. Each call runs as PostgREST runs a request:
one transaction, ``set local role``, ``request.jwt.claims`` (none, a random or malformed or
the real workspace), a ``statement_timeout``.

Each call must either succeed or fail in a documented way:

- ``PTxxx`` with a DETAIL JSON whose ``reason`` is listed in docs/errors.md under that SQLSTATE;
- ``42501`` for a role the function is not granted to (and only then);
- a data error (``22xxx``, or ``54001`` for JSON nested beyond the server's stack) raised
  while Postgres converts the arguments, before the function runs (no error context);
- psycopg's own refusal of a NUL byte in a text value, before anything is sent.

Never ``XX000``, never a timeout (a hang), never another error class. A failed call leaves
the row counts as they were, and at the end ``api.check_invariants()`` is empty.

Budget: ``COLLAB_FUZZ_EXAMPLES`` examples per function (default 60, fixed seed: `make test`);
``make fuzz`` runs 1,000 per function with a random seed (``COLLAB_FUZZ_SEED`` replays one).
"""

from __future__ import annotations

import json
import os
import random
import re
import string
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.types.json import Jsonb

from collab import Client

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = int(os.environ.get("COLLAB_FUZZ_EXAMPLES", "60"))
SEED = os.environ.get("COLLAB_FUZZ_SEED")
ROLES = ("postgres", "service_role", "authenticated", "anon")
TIMEOUT = "5s"
# Keys the api reads from JSON arguments: objects built from them reach deeper code paths.
JSON_KEYS = (
    "queue",
    "type",
    "payload",
    "priority",
    "run_at",
    "delay",
    "max_attempts",
    "idempotency_key",
    "job_id",
    "lease_token",
    "result",
    "workspace_id",
)


def documented_reasons() -> dict[str, set[str]]:
    """reason -> the SQLSTATEs docs/errors.md lists it under."""
    reasons: dict[str, set[str]] = {}
    text = (REPO / "docs" / "errors.md").read_text()
    for match in re.finditer(r"^\|\s*(PT\d{3})\s*\|[^|]*\|\s*`([a-z_]+)`\s*\|", text, re.M):
        reasons.setdefault(match.group(2), set()).add(match.group(1))
    return reasons


@dataclass(frozen=True)
class Function:
    name: str
    signature: str  # regprocedure text, for has_function_privilege
    args: tuple[tuple[str, str], ...]  # (name, SQL type)
    defaults: int  # how many trailing arguments have a default


@dataclass
class Known:
    """Real ids of the database, so calls also hit existing rows."""

    job_ids: list[int]
    executor_ids: list[uuid.UUID]
    tokens: list[uuid.UUID]
    queues: list[str]
    workspace_id: str


def api_functions(conn: psycopg.Connection[Any]) -> list[Function]:
    rows = conn.execute(
        "select p.proname::text, p.oid::regprocedure::text, p.pronargdefaults,"
        " coalesce(p.proargnames[1:p.pronargs], '{}'),"
        " array(select format_type(t, null) from unnest(p.proargtypes::oid[]) with ordinality"
        "       u(t, i) order by i)"
        " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname = 'api' and p.prokind = 'f' order by 1"
    ).fetchall()
    return [
        Function(name, signature, tuple(zip(names, types, strict=True)), defaults)
        for name, signature, defaults, names, types in rows
    ]


# -- strategies ------------------------------------------------------------------------------
class Raw(str):
    """Text sent as is (cast by the server), shown shortened in reports."""

    def __repr__(self) -> str:
        return super().__repr__() if len(self) <= 80 else f"<{len(self)} chars: {self[:40]!r}…>"


def deep_json(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


def json_values(known: Known) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
        st.sampled_from([*known.queues, "", "15 minutes", "-1 day", "infinity", "1e400"]),
        st.sampled_from([str(t) for t in known.tokens] or ["x"]),
        st.sampled_from(known.job_ids or [1]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=6),
            st.dictionaries(st.sampled_from(JSON_KEYS), inner, max_size=8),
            st.dictionaries(st.text(max_size=8), inner, max_size=4),
        ),
        max_leaves=30,
    )


def jsonb(known: Known) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        json_values(known).map(Jsonb),
        # Raw JSON text: deep (the server's parser stops at its stack limit), huge, malformed.
        st.integers(min_value=1, max_value=20000).map(deep_json),
        st.just(deep_json(200000)),
        st.integers(min_value=1, max_value=3000).map(
            lambda n: json.dumps(
                [{"queue": "q", "type": "t", "payload": {"i": i}} for i in range(n)]
            )
        ),
        st.sampled_from(["", "{", "nul\\u0000", '"\\u0000"', "[1,]", "null", "{}", "[]"]),
    )


def text(known: Known) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.text(max_size=40),  # any unicode, NUL included
        st.sampled_from(
            [*known.queues, "", " ", "all", "15m", "1 year", "-1 year", "x" * 300, "a\x00b"]
        ),
        st.integers(min_value=1000, max_value=300000).map(lambda n: Raw("x" * n)),
        st.text(alphabet=string.printable, min_size=1, max_size=20),
    )


INT4 = (-(2**31), 2**31 - 1)
INT8 = (-(2**63), 2**63 - 1)


def integers(bounds: tuple[int, int], known: list[int]) -> st.SearchStrategy[Any]:
    low, high = bounds
    return st.one_of(
        st.none(),
        st.integers(min_value=-5, max_value=1100),
        st.integers(min_value=low, max_value=high),
        st.sampled_from([low, high, high + 1, low - 1, 2**80, *known]),
    )


def uuids(known: Known) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.uuids(),
        st.sampled_from([*known.executor_ids, *known.tokens] or [uuid.UUID(int=0)]),
    )


def intervals() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.timedeltas(min_value=timedelta(days=-(10**6)), max_value=timedelta(days=10**6)),
        st.sampled_from(["0", "-1 second", "100000000 years", "1 microsecond", "P1D"]),
    )


def timestamps() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.datetimes(timezones=st.just(UTC)),
        st.sampled_from(["infinity", "-infinity", "epoch", "now", "294276-01-01"]),
        st.just(datetime.now(UTC)).map(lambda d: d + timedelta(days=3650 * 2)),
    )


def strategy_for(sql_type: str, known: Known) -> st.SearchStrategy[Any]:
    if sql_type.endswith("[]"):
        element = strategy_for(sql_type[:-2], known)
        return st.one_of(st.none(), st.lists(element, max_size=12))
    if sql_type == "text":
        return text(known)
    if sql_type == "jsonb" or sql_type == "json":
        return jsonb(known)
    if sql_type == "integer":
        return integers(INT4, [])
    if sql_type == "smallint":
        return integers((-(2**15), 2**15 - 1), [])
    if sql_type == "bigint":
        return integers(INT8, known.job_ids)
    if sql_type == "uuid":
        return uuids(known)
    if sql_type == "interval":
        return intervals()
    if sql_type.startswith("timestamp"):
        return timestamps()
    if sql_type == "boolean":
        return st.one_of(st.none(), st.booleans())
    if sql_type == "numeric":
        return st.one_of(st.none(), st.decimals(), st.just(Decimal("1e1000")))
    if sql_type in ("double precision", "real"):
        return st.one_of(st.none(), st.floats())
    return st.none()  # a type nobody taught us: null still exercises the validation


def claims_for(role: str, known: Known) -> st.SearchStrategy[dict[str, Any] | None]:
    return st.one_of(
        st.none(),
        st.just({"role": role}),
        st.just({"role": role, "workspace_id": known.workspace_id}),
        st.uuids().map(lambda u: {"role": role, "workspace_id": str(u), "sub": str(u)}),
        st.sampled_from(["not-a-uuid", "", 42, None]).map(
            lambda w: {"role": role, "workspace_id": w}
        ),
    )


@dataclass(frozen=True)
class Call:
    role: str
    claims: dict[str, Any] | None
    args: tuple[tuple[str, str, Any], ...]  # (name, type, value)


def calls(fn: Function, known: Known) -> st.SearchStrategy[Call]:
    @st.composite
    def build(draw: st.DrawFn) -> Call:
        role = draw(st.sampled_from(ROLES))
        # Half the calls come from a trusted caller with no claims (as an executor connected
        # directly), so the arguments get past the workspace checks and reach the function.
        trusted = role in ("postgres", "service_role") and draw(st.booleans())
        claims = None if trusted else draw(claims_for(role, known))
        first_default = len(fn.args) - fn.defaults
        args = []
        for i, (name, sql_type) in enumerate(fn.args):
            if i >= first_default and draw(st.booleans()):
                continue  # leave it to its default
            args.append((name, sql_type, draw(strategy_for(sql_type, known))))
        return Call(role, claims, tuple(args))

    return build()


# -- running a call --------------------------------------------------------------------------
def statement(fn: Function, call: Call) -> tuple[sql.Composed, list[Any]]:
    parts = [
        sql.SQL("{} => %s::{}").format(sql.Identifier(name), sql.SQL(sql_type))
        for name, sql_type, _ in call.args
    ]
    query = sql.SQL("select * from api.{}({})").format(
        sql.Identifier(fn.name), sql.SQL(", ").join(parts)
    )
    return query, [value for _, _, value in call.args]


def contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Jsonb):
        return contains_nul(value.obj)
    if isinstance(value, list | tuple):
        return any(contains_nul(v) for v in value)
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    return False


COUNTED = (
    "collab.jobs",
    "collab.job_history",
    "collab.idempotency_keys",
    "collab.job_events",
    "collab.queues",
    "collab.executors",
)


def row_counts(conn: psycopg.Connection[Any]) -> tuple[int, ...]:
    query = "select " + ", ".join(f"(select count(*) from {t})" for t in COUNTED)
    row = conn.execute(query).fetchone()
    assert row is not None
    return tuple(row)


class Fuzzer:
    def __init__(self, conn: psycopg.Connection[Any], reasons: dict[str, set[str]]) -> None:
        self.conn = conn
        self.reasons = reasons
        self.outcomes: dict[str, int] = {}

    def granted(self, role: str, fn: Function) -> bool:
        if role == "postgres":
            return True
        row = self.conn.execute(
            "select has_function_privilege(%s, %s, 'execute')", [role, fn.signature]
        ).fetchone()
        return bool(row and row[0])

    def run(self, fn: Function, call: Call) -> None:
        query, params = statement(fn, call)
        before = row_counts(self.conn)
        try:
            with self.conn.transaction():
                self.conn.execute(f"set local statement_timeout = '{TIMEOUT}'")
                if call.role != "postgres":
                    self.conn.execute(
                        sql.SQL("set local role {}").format(sql.Identifier(call.role))
                    )
                self.conn.execute(
                    "select set_config('request.jwt.claims', %s, true)",
                    [json.dumps(call.claims) if call.claims is not None else ""],
                )
                self.conn.execute(query, params).fetchall()
            self._count("ok")
            return
        except psycopg.Error as exc:
            self.judge(fn, call, exc)
        assert row_counts(self.conn) == before, f"a failed call of {fn.name} left rows behind"

    def _count(self, key: str) -> None:
        self.outcomes[key] = self.outcomes.get(key, 0) + 1

    def judge(self, fn: Function, call: Call, exc: psycopg.Error) -> None:
        state = exc.sqlstate
        diag = exc.diag
        where = f"api.{fn.name} as {call.role} with {call!r:.1500}"
        if state is None:
            # Refused by psycopg before sending: only a NUL byte in a text value may do that.
            assert isinstance(exc, psycopg.DataError) and "NUL" in str(exc), f"{exc!r}: {where}"
            assert any(contains_nul(v) for _, _, v in call.args), f"{exc!r}: {where}"
            self._count("client: NUL byte")
            return
        if state.startswith("PT"):
            try:
                detail = json.loads(diag.message_detail or "")
            except ValueError:
                pytest.fail(f"{state} without a JSON DETAIL ({diag.message_detail!r}): {where}")
            reason = detail.get("reason") if isinstance(detail, dict) else None
            assert reason in self.reasons, f"undocumented reason {reason!r} ({exc}): {where}"
            assert state in self.reasons[reason], f"{reason} raised as {state}: {where}"
            self._count(f"{state} {reason}")
            return
        if state == "42501":
            assert not self.granted(call.role, fn), f"42501 for a granted role ({exc}): {where}"
            self._count("42501 not granted")
            return
        # Converting an argument to its SQL type, before the function runs (no PL/pgSQL frame).
        context = diag.context or ""
        if (state.startswith("22") or state == "54001") and "function" not in context:
            self._count(f"{state} argument conversion")
            return
        pytest.fail(f"{state} {exc.__class__.__name__}: {exc} (context: {diag.context}): {where}")


# -- the test --------------------------------------------------------------------------------
def seed_data(db_url: str) -> Known:
    with Client(db_url, max_size=1) as client:
        client.configure_queue("fuzz-a", backoff_jitter=0)
        executor = client.register_executor("fuzz", ["fuzz-a", "fuzz-b"])
        jobs = [client.enqueue("fuzz-a", "t", {"i": i}).id for i in range(8)]
        jobs += [
            client.enqueue("fuzz-b", "t", {"i": i}, idempotency_key=f"k{i}").id for i in range(4)
        ]
        claimed = client.claim(executor, ["fuzz-a"], 6, 3600)
        client.complete(claimed[0].id, claimed[0].lease_token, {"ok": True})
        client.fail(claimed[1].id, claimed[1].lease_token, {"e": 1}, retryable=False)
        client.cancel(jobs[-1])
        with psycopg.connect(db_url) as conn:
            row = conn.execute("select collab.default_workspace_id()::text").fetchone()
        assert row is not None
        return Known(
            job_ids=jobs,
            executor_ids=[executor],
            tokens=[c.lease_token for c in claimed],
            queues=["fuzz-a", "fuzz-b"],
            workspace_id=row[0],
        )


@pytest.fixture(scope="module")
def fuzz_conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


def fuzz_one(
    fuzzer: Fuzzer, fn: Function, known: Known, base: settings, run_seed: int | None
) -> Callable[[], None]:
    @base
    @given(call=calls(fn, known))
    def check(call: Call) -> None:
        fuzzer.run(fn, call)

    return seed(run_seed)(check) if run_seed is not None else check


def test_every_api_function_refuses_bad_input_cleanly(
    db_url: str, fuzz_conn: psycopg.Connection[Any]
) -> None:
    known = seed_data(db_url)
    reasons = documented_reasons()
    assert {"invalid_input", "lease_lost", "job_not_found"} <= set(reasons)
    functions = api_functions(fuzz_conn)
    assert len(functions) >= 20, [f.name for f in functions]
    fuzzer = Fuzzer(fuzz_conn, reasons)
    # make test: a fixed seed (derandomized). make fuzz: a random seed, reported with any
    # finding so that COLLAB_FUZZ_SEED replays it.
    fixed = SEED is None and EXAMPLES <= 100
    run_seed = int(SEED) if SEED is not None else (None if fixed else random.randrange(2**32))
    base = settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=fixed,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    findings: list[str] = []
    for fn in functions:
        check = fuzz_one(fuzzer, fn, known, base, run_seed)
        try:
            check()
        except (AssertionError, pytest.fail.Exception) as exc:
            findings.append(f"api.{fn.name}: {str(exc)[:3000]}")
    assert not findings, f"seed {run_seed}:\n" + "\n\n".join(findings)

    violations = fuzz_conn.execute("select * from api.check_invariants()").fetchall()
    kinds: dict[str, int] = {}
    for invariant, _, _ in violations:
        kinds[invariant] = kinds.get(invariant, 0) + 1
    assert not violations, f"seed {run_seed}: invariants broken {kinds}, e.g. {violations[:5]}"
    shown = "fixed" if run_seed is None else run_seed
    outcomes = sorted(fuzzer.outcomes.items())
    print(f"\nseed {shown}: fuzzed {len(functions)} api functions, outcomes: {outcomes}")
