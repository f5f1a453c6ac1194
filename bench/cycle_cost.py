"""What a claim-and-complete cycle costs the server, in one backend: Collab's api, the bare writes.

Usage: ``python bench/cycle_cost.py [--rounds 7] [--cycles 2000] [--profile] [--ladder]``

On the benchmark cluster (bench/run.py's, started if it is not running) it makes one fresh
database per system, each holding enough queued jobs, and runs in each round, in alternating
order, one DO block per system: ``--cycles`` cycles of claiming one job, completing it and
committing, in one backend, with ``synchronous_commit = off`` so that the WAL flush, the round
trips and the client are left out. What remains is the server's CPU a cycle:

- Collab: ``api.claim`` of one job, then ``api.complete`` (bench/run.py's "collab1");
- Collab without its events (bench/run.py's events_off: the triggers of ``collab.jobs`` and
  ``collab.job_history`` disabled, the claim's and completion's own event inserts taken out);
- Collab, ``api.claim`` alone (the jobs stay claimed);
- the contract's bare writes (bench/run.py's "contract1": lease, token and event in one
  statement; the fenced move to the history with its event in another);
- the SKIP LOCKED baseline (bench/run.py's "plain1": update, then delete).

Prints each round's µs a cycle, then the medians and each over the bare writes'; the pgbench
rows of bench/run.py add to these the round trips, the commit's flush and the client. Then
the statements of a cycle of Collab's and of the bare writes, counted by pg_stat_statements
at every level.

With ``--variant FILE`` (repeatable; bench/variants/ holds the ones docs/bench.md cites) each
FILE's SQL is applied to a copy of Collab's database, and its cycle runs beside the others in
every round: a change measured against the shipped cycle in the same rounds, printed as the
median of each round's ratio to it.

With ``--ladder`` three more rows run in every round, the steps between the bare writes and
Collab's cycle (LADDER): the bare writes' statements on Collab's tables with its events
triggers off, the same with them on, the same in two SECURITY DEFINER functions; then each
layer's price is printed, the median over the rounds of a step's time less the one below it.

With ``--profile`` (Linux ``perf`` installed, run as root or with perf_event_paranoid <= 1),
it then samples each system's backend for 4 s of the same loop (``perf record -g``) and
prints the share of its CPU under each of a few executor functions (PROFILED, inclusive: a
trigger's statements count under the trigger too) and those shares as µs of a cycle.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "thin_client"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R

CLAIM = (
    "select id, lease_token into rec from api.claim('{ex}'::uuid, '{{bench}}'::text[], 1, {lease});"
)
COMPLETE = "perform api.complete(rec.id, rec.lease_token, null);"
# bench/run.py's statements of the bare writes (the pgbench rows' "contract1" and "contract10"),
# with the claimed job's id and token held in PL/pgSQL instead of pgbench variables.
CONTRACT = (
    "with "
    + R.CONTRACT_CLAIM.replace(":k", "1")
    + "\nselect id, lease_token into rec from c;\nwith "
    + R.CONTRACT_COMPLETE.replace("':ids'::bigint[]", "array[rec.id]").replace(
        "':toks'::uuid[]", "array[rec.lease_token]"
    )
    + "\nselect count(*) into n from m;"
)
PLAIN = """
with c as (update plain_jobs set locked_at = now() where id = (
  select id from plain_jobs where locked_at is null order by id limit 1 for update skip locked)
  returning id)
select id into rec from c;
delete from plain_jobs where id = rec.id;
"""
LOOP = """do $$
declare rec record; n bigint; t0 timestamptz := clock_timestamp();
begin
  for i in 1..{cycles} loop
    {body}
    commit;
  end loop;
  perform set_config('cycle_cost.seconds', extract(epoch from clock_timestamp() - t0)::text, false);
end $$"""


# A cycle of Collab's: claim one job, complete it (format it with ex and lease).
CYCLE = CLAIM + COMPLETE
SHIPPED = "collab api.claim + api.complete"


def systems(b: R.Bench, jobs: int) -> dict[str, tuple[str, str]]:
    """(database, loop body) of each system, its database filled with `jobs` queued jobs."""
    ex_on = R.collab_pgbench_db(b, "b_cycle_on", jobs)
    ex_off = R.collab_pgbench_db(b, "b_cycle_off", jobs, events=False)
    ex_claim = R.collab_pgbench_db(b, "b_cycle_claim", jobs)
    R.bare_db(b, "b_cycle_contract", "contract", R.build_contract, jobs)
    R.bare_db(b, "b_cycle_plain", "plain", R.build_plain, jobs)
    return {
        SHIPPED: ("b_cycle_on", CYCLE.format(ex=ex_on, lease=300)),
        "collab, events off": ("b_cycle_off", CYCLE.format(ex=ex_off, lease=300)),
        # a database of its own: its jobs stay claimed, with leases that outlast the run
        "collab api.claim alone": ("b_cycle_claim", CLAIM.format(ex=ex_claim, lease=86400)),
        "contract's bare writes": ("b_cycle_contract", CONTRACT),
        "SKIP LOCKED update + delete": ("b_cycle_plain", PLAIN),
    }


def apply_variant(dsn: str, path: Path) -> None:
    """Apply the SQL in path to the database at dsn, in one transaction."""
    with psycopg.connect(dsn) as c:
        c.execute(path.read_text())  # type: ignore[call-overload]  # a file of statements


def variant_db(path: Path) -> str:
    """The name of the database of the variant in path."""
    return "b_cycle_v_" + re.sub(r"[^a-z0-9]+", "_", path.stem.lower())


def variant(b: R.Bench, path: Path, jobs: int) -> tuple[str, str]:
    """(database, loop body) of Collab's cycle in a copy of its database changed by the SQL in
    path, then filled with `jobs` queued jobs."""
    db = variant_db(path)
    ex = R.collab_pgbench_db(b, db, jobs, change=lambda dsn: apply_variant(dsn, path))
    return db, CYCLE.format(ex=ex, lease=300)


# The ladder (--ladder): from the contract's bare writes to Collab's cycle, one layer at a time,
# each step in a copy of Collab's database of its own: the bare writes' two statements written
# for Collab's tables (bench/run.py's LADDER_CLAIM and LADDER_COMPLETE) with the events
# triggers of collab.jobs and collab.job_history off; the same with the triggers on, each
# statement naming itself in collab.statement_events first, as the api's do, so the triggers
# fire and return at once; the same statements in two SECURITY DEFINER functions
# (run.ladder_functions); and the shipped cycle. A step over the one below it is the price of
# its layer; the last step is the api's rules (run.py names them).
LADDER = (
    "contract's bare writes",
    "ladder: its statements on Collab's tables, triggers off",
    "ladder: the events triggers on",
    "ladder: in two SECURITY DEFINER functions",
    SHIPPED,
)
LADDER_LAYERS = (
    "the contract's bare writes",
    "Collab's tables (keys, indexes, CHECKs, partitions)",
    "the events triggers firing",
    "two SECURITY DEFINER PL/pgSQL functions",
    "the api's rules",
)


def ladder_body(step: int, ex: str, ws: str) -> str:
    """The loop body of the ladder's middle step (1-3: LADDER[step]) for executor ex of
    workspace ws, in a database that LADDER_CHANGES[step] changed: the bare writes' statements
    on Collab's tables (2: each naming itself in collab.statement_events first, so the events
    triggers return at once), or (3) the two functions holding them."""
    if step == 3:
        return (
            f"select job_id as id, token as lease_token into rec"
            f" from public.ladder_claim('{ex}'::uuid, '{ws}'::uuid);\n"
            f"perform public.ladder_complete(rec.id, rec.lease_token, '{ws}'::uuid);"
        )
    jobs, history = (
        (R.NAMED.format(table=t) for t in ("collab.jobs", "collab.job_history"))
        if step == 2
        else ("", "")
    )
    return (
        jobs
        + R.LADDER_CLAIM.format(ex=f"'{ex}'::uuid", ws=f"'{ws}'::uuid", into="rec")
        + history
        + R.LADDER_COMPLETE.format(
            jid="rec.id", tok="rec.lease_token", ws=f"'{ws}'::uuid", into="n"
        )
    )


# What each middle step changes in its copy of Collab's database, before the fill.
LADDER_CHANGES: dict[int, Callable[[str], None] | None] = {
    1: R.triggers_off,
    2: None,
    3: R.ladder_functions,
}


def ladder(b: R.Bench, jobs: int) -> dict[str, tuple[str, str]]:
    """(database, loop body) of the ladder's three middle steps, each database filled with
    `jobs` queued jobs (the bottom step and the top one are systems() rows)."""
    out = {}
    for step, change in LADDER_CHANGES.items():
        db = f"b_ladder_{step}"
        ex = R.collab_pgbench_db(b, db, jobs, change=change)
        out[LADDER[step]] = (db, ladder_body(step, ex, R.workspace_of(b.url(db), ex)))
    return out


def steps(took: dict[str, list[float]]) -> list[tuple[str, float, float]]:
    """Each ladder step: its layer, its median µs a cycle, and the median over the rounds of
    its time less the step below's in the same round (the bottom step: its own time)."""
    out = []
    for i, (name, layer) in enumerate(zip(LADDER, LADDER_LAYERS, strict=True)):
        below = took[LADDER[i - 1]] if i else [0.0] * len(took[name])
        step = statistics.median(x - y for x, y in zip(took[name], below, strict=True))
        out.append((layer, statistics.median(took[name]), step))
    return out


def paired(took: dict[str, list[float]], name: str, base: str = SHIPPED) -> float:
    """Median over the rounds of name's time over base's in the same round."""
    return statistics.median(x / y for x, y in zip(took[name], took[base], strict=True))


def run_loop(c: psycopg.Connection[Any], body: str, cycles: int) -> None:
    """Run `cycles` cycles of body on c, each committed, without waiting for the flush."""
    c.execute("set synchronous_commit = off")
    c.execute(LOOP.format(cycles=cycles, body=body))


def cycle_us(b: R.Bench, db: str, body: str, cycles: int) -> float:
    with b.connect(db) as c:
        run_loop(c, body, cycles)
        row = c.execute("select current_setting('cycle_cost.seconds')::float8").fetchone()
    assert row is not None
    return float(row[0]) / cycles * 1e6


# Inclusive shares worth naming: where a statement's fixed cost goes (plan start-up, the plan
# cache's checks, CHECK constraints, which Postgres rebuilds from their stored text for every
# statement that writes the table), what the triggers cost, and the work itself.
PROFILED = {
    "standard_ExecutorStart": "executor start-up of each statement",
    "GetCachedPlan": "plan cache lookups and checks",
    "ExecInitExprWithParams": "PL/pgSQL expressions set up per transaction",
    "AfterTriggerEndQuery": "AFTER triggers (their statements included)",
    "ExecConstraints": "CHECK constraints",
    "stringToNode": "  of which: reading their stored expressions",
    "index_getnext_slot": "index scans",
    "ExecInsertIndexTuples": "index inserts",
    "CommitTransactionCommand": "commit",
}


def profile(b: R.Bench, db: str, body: str, seconds: float = 4.0) -> dict[str, float]:
    """Share of the backend's samples (0-1) under each PROFILED function while it runs body
    in a loop."""
    with (
        b.connect(db) as c,
        tempfile.TemporaryDirectory() as tmp,
    ):
        pid = c.execute("select pg_backend_pid()").fetchone()[0]  # type: ignore[index]

        def run() -> None:
            with contextlib.suppress(psycopg.errors.QueryCanceled):  # stopped below
                run_loop(c, body, 10**6)

        loop = threading.Thread(target=run)
        loop.start()
        time.sleep(1)
        data = f"{tmp}/perf.data"
        record = ["perf", "record", "-F", "1000", "-g", "-o", data, "-p", str(pid)]
        subprocess.run([*record, "--", "sleep", str(seconds)], capture_output=True, check=True)
        with b.connect("postgres") as admin:
            admin.execute("select pg_cancel_backend(%s)", [pid])
        loop.join()
        script = subprocess.run(
            ["perf", "script", "-i", data], capture_output=True, text=True, check=True
        ).stdout
    counts = dict.fromkeys(PROFILED, 0)
    samples = 0
    for stack in script.split("\n\n"):
        frames = {m.group(1) for m in re.finditer(r"^\s*[0-9a-f]+ ([^+\s]+)", stack, re.M)}
        if not frames:
            continue
        samples += 1
        for name in PROFILED:
            counts[name] += name in frames
    return {name: n / max(samples, 1) for name, n in counts.items()}


def statements(b: R.Bench, db: str, body: str, cycles: int = 500) -> float:
    """Statements the server runs a cycle, every level (pg_stat_statements, track = all): the
    loop's own and those of the functions and triggers they call; PL/pgSQL's simple
    expressions (an IF, an assignment) are not statements and are not counted."""
    count = (
        "select coalesce(sum(s.calls), 0) from pg_stat_statements s join pg_database d"
        " on d.oid = s.dbid where d.datname = %s and not s.toplevel"
    )
    with b.connect("postgres") as admin, b.connect(db) as c:
        c.execute("set pg_stat_statements.track = 'all'")
        before = admin.execute(count, [db]).fetchone()
        run_loop(c, body, cycles)
        after = admin.execute(count, [db]).fetchone()
    assert before is not None and after is not None
    return float(after[0] - before[0]) / cycles


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--profile", action="store_true", help="then sample each backend with perf")
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="SQL applied to a copy of Collab's database, timed beside it (repeatable)",
    )
    ap.add_argument(
        "--ladder",
        action="store_true",
        help="also the steps from the bare writes to Collab's cycle, one layer at a time",
    )
    args = ap.parse_args()
    for path in args.variant:
        if not path.is_file():
            sys.exit(f"--variant {path}: no such file")
    names = [variant_db(path) for path in args.variant]
    if len(set(names)) < len(names):
        sys.exit("--variant: two files of one name; each names its row and its database")
    if args.profile and shutil.which("perf") is None:
        sys.exit("--profile needs Linux perf")
    b = R.Bench(R.Sizes(False))
    b.start()
    # the rounds, the warm-up, and 4 s of the profile at up to 10,000 cycles a second
    jobs = (args.rounds + 1) * args.cycles + (40_000 if args.profile else 1000)
    runs = systems(b, jobs)
    for path in args.variant:
        runs[f"variant {path.stem}"] = variant(b, path, jobs)
    if args.ladder:
        runs.update(ladder(b, jobs))
    for db, body in runs.values():  # warm-up, not counted
        cycle_us(b, db, body, min(200, args.cycles))
    took: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(args.rounds):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for name in order:
            took[name].append(cycle_us(b, *runs[name], args.cycles))
        R.say(f"round {r + 1}: " + ", ".join(f"{n} {took[n][-1]:,.0f}" for n in runs))
    bare = statistics.median(took["contract's bare writes"])
    R.say(
        f"µs a cycle, one backend, synchronous_commit off ({args.rounds} rounds of {args.cycles}):"
    )
    for name, values in took.items():
        m = statistics.median(values)
        R.say(f"  {name:34} median {m:6,.0f}  ({m / bare:.2f}x the bare writes)")
    for path in args.variant:
        name = f"variant {path.stem}"
        R.say(f"  {name}: {paired(took, name):.3f}x the shipped cycle's time (paired medians)")
    if args.ladder:
        R.say("the ladder (µs a cycle, median; each layer: the median of its step in each round):")
        for layer, median, step in steps(took):
            R.say(f"  {layer:52} {median:6,.0f}  {step:+6,.0f}")
    for name in (SHIPPED, "contract's bare writes"):
        R.say(f"  {name}: {statements(b, *runs[name]):.1f} statements a cycle")
    if not args.profile:
        return
    for name in (SHIPPED, "contract's bare writes"):
        shares = profile(b, *runs[name])
        per_cycle = statistics.median(took[name])
        R.say(f"{name}: share of the backend's CPU (µs of a {per_cycle:,.0f} µs cycle)")
        for fn, label in PROFILED.items():
            R.say(f"  {label:44} {shares[fn]:6.1%}  {shares[fn] * per_cycle:5.0f}")


if __name__ == "__main__":
    main()
