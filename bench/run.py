"""Collab against its peers on one dedicated local cluster, in one run, as ratios.

Run from the repository root:

    .venv/bin/python bench/run.py            # full run (make bench)
    .venv/bin/python bench/run.py --quick    # under 3 minutes (make bench-quick)
    .venv/bin/python bench/run.py --only sql # one workload (or several: --only held,burst,wal)
    .venv/bin/python bench/run.py --soak     # adds the 10-minute soak

Every workload is repeated 3 times and reported as the median. Peers are installed into
git-ignored folders under bench/.peers/ from PyPI and npm; a peer that does not install or
run is skipped with the reason printed, never estimated. Results go to
bench/results/<UTC date-time>.json, a table to docs/bench.md and one plot to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import itertools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PEERS = BENCH / ".peers"
PEERS_PY = PEERS / "py"
PEERS_NODE = PEERS / "node"
PEERS_PLOT = PEERS / "plot"
RESULTS = BENCH / "results"
DOC = ROOT / "docs" / "bench.md"
sys.path.insert(0, str(ROOT / "thin_client"))

from collab import migrate  # noqa: E402
from collab.aio_worker import AsyncWorker  # noqa: E402
from collab.client import Client  # noqa: E402
from collab.embedded import EmbeddedPostgres, find_bin_dir  # noqa: E402
from collab.worker import Worker  # noqa: E402

REPEATS = 3
WORKLOADS = (
    "enqueue",
    "drain",
    "sql",
    "wake",
    "overhead",
    "growth",
    "held",
    "burst",
    "wal",
    "soak",
)
# Long (minutes each in the full run): out of --quick unless named with --only.
NOT_QUICK = ("held", "burst", "wal")
SETTINGS_SHOWN = (
    "server_version",
    "synchronous_commit",
    "fsync",
    "wal_level",
    "shared_buffers",
    "work_mem",
    "max_connections",
    "checkpoint_timeout",
    "max_wal_size",
    "jit",
    "autovacuum_naptime",
    "shared_preload_libraries",
    "pg_stat_statements.track",
)


def say(msg: str) -> None:
    print(msg, flush=True)


class Sizes:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.enqueue_one = 300 if quick else 2000
        self.enqueue_batch = 5000 if quick else 20000
        self.drain = 1500 if quick else 20000
        self.drain_slow = 150 if quick else 5000  # procrastinate: ~300 jobs/s
        self.drain_awa = 400 if quick else 20000
        self.pgbench_seconds = 1 if quick else 10
        self.wake_jobs = 60 if quick else 500
        # The wake-up rows' rounds: a round's p50 swings by a third from one round to the next
        # (docs/bench.md, "The wake-up rows over 15 rounds"), so 3 rounds turned the verdict
        # from run to run; 7 read the p50 as 15 rounds did.
        self.wake_rounds = 3 if quick else 7
        self.growth = [10**4, 10**5] if quick else [10**4, 10**5, 10**6]
        self.held_seconds = 30 if quick else 150
        self.burst_seconds = 20 if quick else 80
        self.wal_jobs = 3000 if quick else 10000
        self.wal_slow = 300 if quick else 2000  # procrastinate


# -- the cluster ---------------------------------------------------------------------------


class Bench:
    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self.cluster = EmbeddedPostgres(base=BENCH / ".cluster", port="auto")
        self.results: dict[str, Any] = {"workloads": {}, "skipped": {}, "errors": {}}
        self.templates: set[str] = set()
        self.hot_kinds: set[str] | None = None  # --hot-systems: the fixed-rate rows' systems

    def start(self) -> None:
        st = self.cluster.start()
        self.port = st.port
        with self.connect("postgres") as c:
            c.execute("create extension if not exists pg_stat_statements")
            # the SQL rows' mean WAL sync (flush_figures): pg_stat_wal times syncs only with it
            c.execute("alter system set track_wal_io_timing = on")
            c.execute("select pg_reload_conf()")
            rows = c.execute(
                "select name, setting, coalesce(unit, '') from pg_settings where name = any(%s)",
                [list(SETTINGS_SHOWN)],
            ).fetchall()
        self.settings = {n: f"{s}{'' if u in ('', '8kB') else u}" for n, s, u in rows}
        with self.connect("postgres") as c:
            self.settings["shared_buffers"] = c.execute("show shared_buffers").fetchone()[0]
            self.settings["work_mem"] = c.execute("show work_mem").fetchone()[0]
            self.settings["max_wal_size"] = c.execute("show max_wal_size").fetchone()[0]
        say(f"benchmark cluster: 127.0.0.1:{self.port}, settings:")
        for k in SETTINGS_SHOWN:
            say(f"  {k} = {self.settings.get(k)}")

    def url(self, db: str) -> str:
        return self.cluster.url(db)

    def connect(self, db: str) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(db), autocommit=True)

    def fresh(self, name: str, template: str | None = None) -> str:
        with self.connect("postgres") as c:
            c.execute(f"drop database if exists {name} with (force)")
            c.execute(f"create database {name}" + (f" template {template}" if template else ""))
        return self.url(name)

    def template(self, name: str, build: Callable[[str], None]) -> str:
        """A migrated database to copy per repetition (copying is fast and keeps runs equal)."""
        if name not in self.templates:
            dsn = self.fresh(name)
            build(dsn)
            with self.connect(name) as c:
                c.execute("vacuum analyze")
            self.templates.add(name)
        return name

    def collab_template(self) -> str:
        return self.template("tpl_collab", build_collab)

    # -- recording -----------------------------------------------------------------------
    def record(
        self, workload: str, system: str, runs: list[float], unit: str, **extra: Any
    ) -> float:
        med = statistics.median(runs)
        self.results["workloads"].setdefault(workload, {})[system] = {
            "median": med,
            "runs": runs,
            "unit": unit,
            **extra,
        }
        shown = ", ".join(f"{r:,.0f}" if r >= 100 else f"{r:.2f}" for r in runs)
        say(f"  {workload:9} {system:42} {med:>12,.1f} {unit}   (runs: {shown})")
        return med

    def skip(self, system: str, reason: str) -> None:
        if system not in self.results["skipped"]:
            say(f"  skip {system}: {reason}")
        self.results["skipped"][system] = reason


# -- peers ---------------------------------------------------------------------------------


def ensure_python_peers(bench: Bench) -> dict[str, str]:
    versions: dict[str, str] = {}
    wanted = {"procrastinate": "procrastinate", "pgmq": "pgmq", "awa-pg": "awa_pg"}
    missing = [
        pkg for pkg, dist in wanted.items() if not list(PEERS_PY.glob(f"{dist}-*.dist-info"))
    ]
    if missing:
        say(f"installing Python peers into bench/.peers/py: {' '.join(missing)}")
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(PEERS_PY), *missing],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            say("  pip failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1])
    for pkg, dist in wanted.items():
        found = sorted(PEERS_PY.glob(f"{dist}-*.dist-info"))
        if found:
            versions[pkg] = found[-1].name[len(dist) + 1 : -len(".dist-info")]
        else:
            bench.skip(pkg, "did not install from PyPI")
    return versions


def ensure_node_peer(bench: Bench) -> str | None:
    pkg = PEERS_NODE / "node_modules" / "graphile-worker" / "package.json"
    if not pkg.exists():
        say("installing graphile-worker into bench/.peers/node")
        PEERS_NODE.mkdir(parents=True, exist_ok=True)
        if not (PEERS_NODE / "package.json").exists():
            (PEERS_NODE / "package.json").write_text('{"private": true}\n')
        try:
            proc = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "graphile-worker"],
                cwd=PEERS_NODE,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                say("  npm failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1])
        except FileNotFoundError:
            bench.skip("graphile-worker", "node/npm not found")
            return None
    if not pkg.exists():
        bench.skip("graphile-worker", "did not install from npm")
        return None
    return str(json.loads(pkg.read_text())["version"])


def plt_module() -> Any:
    try:
        import matplotlib
    except ImportError:
        if str(PEERS_PLOT) not in sys.path:
            sys.path.insert(0, str(PEERS_PLOT))
        try:
            import matplotlib
        except ImportError:
            say("installing matplotlib into bench/.peers/plot")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--target",
                    str(PEERS_PLOT),
                    "matplotlib",
                ],
                check=False,
            )
            # The folder did not exist when it went on sys.path: forget that lookup.
            importlib.invalidate_caches()
            import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def run_json(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 600) -> Any:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise RuntimeError(tail[-1] if tail else f"exit {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def procrastinate(dsn: str, *args: Any) -> Any:
    env = dict(os.environ, PYTHONPATH=str(PEERS_PY))
    cmd = [sys.executable, str(BENCH / "peer_procrastinate.py"), dsn, *map(str, args)]
    return run_json(cmd, env)


def graphile(dsn: str, *args: Any) -> Any:
    env = dict(os.environ, PEERS_NODE=str(PEERS_NODE), CLK_TCK=str(os.sysconf("SC_CLK_TCK")))
    return run_json(["node", str(BENCH / "peer_graphile.cjs"), dsn, *map(str, args)], env)


def awa(dsn: str, *args: Any) -> Any:
    env = dict(os.environ, PYTHONPATH=str(PEERS_PY))
    return run_json([sys.executable, str(BENCH / "peer_awa.py"), dsn, *map(str, args)], env)


def build_awa(dsn: str) -> None:
    awa(dsn, "migrate")


def build_procrastinate(dsn: str) -> None:
    procrastinate(dsn, "schema")


def build_graphile(dsn: str) -> None:
    graphile(dsn, "migrate")


def build_pgmq(dsn: str) -> None:
    sql = (PEERS_PY / "pgmq" / "sql" / "pgmq.sql").read_text()
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(sql)
        c.execute("select pgmq.create('bench')")


def build_plain(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(
            "create table plain_jobs (id bigserial primary key, queue text not null,"
            " payload jsonb not null, run_at timestamptz not null default now(),"
            " locked_at timestamptz)"
        )
        c.execute("create index plain_jobs_todo_idx on plain_jobs (id) where locked_at is null")


def build_contract(dsn: str) -> None:
    """Collab's contract written bare: the fewest tables, indexes and statements that still do
    what a claim and a completion must (a lease with a fresh token, fencing by that token, one
    event per change committed with it, the finished job kept in a history). No functions,
    triggers, checks, tenancy or metrics: what any implementation of the contract pays at
    least, on this machine (section 3, docs/bench.md)."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(
            "create table contract_jobs (id bigserial primary key, queue text not null,"
            " payload jsonb not null, priority integer not null default 0,"
            " run_at timestamptz not null default now(), status text not null default 'queued',"
            " attempt integer not null default 0, lease_token uuid, lease_expires_at timestamptz,"
            " claimed_at timestamptz)"
        )
        c.execute(
            "create index contract_jobs_claim_idx on contract_jobs"
            " (queue, priority desc, run_at, id) where status = 'queued'"
        )
        c.execute(
            "create table contract_history (id bigint primary key, queue text not null,"
            " payload jsonb not null, attempt integer not null, lease_token uuid not null,"
            " result jsonb, finished_at timestamptz not null)"
        )
        c.execute(
            "create table contract_events (id bigserial primary key, job_id bigint not null,"
            " type text not null, attempt integer not null,"
            " created_at timestamptz not null default now())"
        )


# The contract's batch enqueue written bare: each element of the batch becomes a queued job and
# its `enqueued` event, in one statement and so in one transaction; the count of events made.
CONTRACT_ENQUEUE_BATCH = """
with job as (
  insert into contract_jobs (queue, payload)
  select e ->> 'queue', coalesce(e -> 'payload', '{}') from jsonb_array_elements(%s::jsonb) e
  returning id
), event as (
  insert into contract_events (job_id, type, attempt)
  select job.id, 'enqueued', 0 from job
  returning job_id
)
select count(*) from event
"""


# -- helpers ---------------------------------------------------------------------------------


def build_collab(dsn: str) -> None:
    """Collab migrated, and reaped once, as a deployment is a minute after its migration: the
    event stream then has its first range partition (collab.ensure_event_partitions), and
    events go there instead of to the default partition once the next xid reaches the range
    (it starts a margin above the next xid: transactions that do nothing else move it there)."""
    migrate.up(dsn)
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("select collab.reap()")
        row = c.execute("select min(from_xid)::text from collab.event_partitions()").fetchone()
        if row and row[0] is not None:
            advance_next_xid(c, int(row[0]))


def advance_next_xid(conn: psycopg.Connection[Any], xid: int) -> None:
    """Transactions that take an xid and do nothing else, until the next xid is at least xid."""
    while True:
        row = conn.execute("select pg_snapshot_xmax(pg_current_snapshot())::text").fetchone()
        assert row is not None
        if int(row[0]) >= xid:
            return
        for _ in range(min(1000, xid - int(row[0]))):
            conn.execute("select pg_current_xact_id()")


# The bytes of a partitioned table's partitions (the table itself stores nothing).
PARTITIONS_SIZE = (
    "(select coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)"
    " from pg_inherits i where i.inhparent = '{}'::regclass)"
)


def fill_collab(dsn: str, n: int, queue: str = "bench") -> None:
    """n no-op jobs through api.enqueue_batch, built server-side 10,000 per call."""
    with psycopg.connect(dsn, autocommit=True) as c:
        for start in range(0, n, 10000):
            c.execute(
                "select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object("
                "'queue', %s::text, 'type', 'noop')) from generate_series(1, %s)))",
                [queue, min(10000, n - start)],
            )
        c.execute("analyze collab.jobs")


def batch_json(n: int) -> str:
    return json.dumps([{"queue": "bench", "type": "noop", "payload": {}}] * n)


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else 0.0


def process_cpu(pid: int) -> float:
    """CPU seconds process pid has run, 0 when it is gone: the kernel's run time in
    nanoseconds (/proc/<pid>/schedstat), else user and system time in clock ticks
    (/proc/<pid>/stat, 10 ms each: a short sample of a few processes reads 0)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except FileNotFoundError:
        pass
    except (OSError, IndexError, ValueError):
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_pid(groups: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    """Each group's processes' CPU seconds now, by pid (sample twice, then cpu_spent)."""
    return {name: {p: process_cpu(p) for p in pids} for name, pids in groups.items()}


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two samples of the processes alive at both."""
    return sum(after[p] - before[p] for p in before if p in after and after[p] >= before[p])


def machine_cpu() -> tuple[float, float]:
    """CPU seconds since boot, every core: (busy, stolen). Busy is every process's (user,
    nice, system, irq and softirq of /proc/stat's first line), a database's server processes
    included, which a client's own clock leaves out; stolen is time this virtual machine was
    ready to run and the host ran something else, which a busy host takes from it."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:9]]
    hz = os.sysconf("SC_CLK_TCK")
    return (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / hz, ticks[7] / hz


def cpu_share(
    jobs: int, seconds: float, machine: float, client: float, stolen: float
) -> dict[str, float]:
    """What a run of ``jobs`` in ``seconds`` cost in CPU: µs a job on the whole machine (the
    client, the database server and anything else running), µs a job in the client's
    processes, the cores busy on average (2 is all of this machine's), and the cores the host
    took meanwhile (stolen)."""
    return {
        "machine_us_per_job": 1e6 * machine / max(jobs, 1),
        "client_us_per_job": 1e6 * client / max(jobs, 1),
        "cores_busy": machine / seconds if seconds > 0 else 0.0,
        "cores_stolen": stolen / seconds if seconds > 0 else 0.0,
    }


def median_cpu(cpu: list[dict[str, float]]) -> dict[str, float]:
    """A row's CPU a job: its median run by machine µs."""
    return sorted(cpu, key=lambda x: x["machine_us_per_job"])[len(cpu) // 2]


def record_drain(b: Bench, system: str, runs: list[float], cpu: list[dict[str, float]]) -> None:
    """Record a drain row's jobs/s, with its CPU a job (cpu_share) and a line of its median run
    (median_cpu) when the runs were accounted."""
    b.record("drain", system, runs, "jobs/s", **({"cpu": cpu} if cpu else {}))
    if cpu:
        m = median_cpu(cpu)
        say(
            f"  {'':9} CPU a job: {m['machine_us_per_job']:,.0f} µs on the machine, "
            f"{m['client_us_per_job']:,.0f} µs of them in the client; "
            f"{m['cores_busy']:.2f} cores busy, {m['cores_stolen']:.2f} stolen by the host"
        )


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


T = TypeVar("T")


def interleaved(rows: dict[str, Callable[[], T]], rounds: int) -> dict[str, list[T]]:
    """Each row's figures from `rounds` rounds of one run of every row, the order turned by one
    each round, so that the machine's changes of speed within minutes (docs/bench.md) fall on
    every system alike; in the rows' order."""
    runs: dict[str, list[T]] = {system: [] for system in rows}
    order = list(rows)
    for k in range(rounds):
        for system in order[k % len(order) :] + order[: k % len(order)]:
            runs[system].append(rows[system]())
    return runs


# -- 1. enqueue -----------------------------------------------------------------------------


def w_enqueue(b: Bench, peers: dict[str, Any]) -> None:
    say("1. enqueue: one per transaction, and batches of 1,000 (jobs/s), systems interleaved")
    n1, nb = b.sizes.enqueue_one, b.sizes.enqueue_batch
    tpl = b.collab_template()

    # A run: a fresh copy of the system's template and one client that makes the row's calls
    # twice, timed the second time: a producer that has run a while (its plans cached, a
    # peer's JavaScript compiled), as in production. Timed from a cold start, each system's
    # first pass was its slowest (graphile-worker's addJobs 76,000 jobs/s, then 90,000-99,000;
    # Collab's enqueue_batch 81,000-86,000, then 86,000-93,000), by how much varying from
    # system to system.
    def sql_row(
        template: str, statement: str, params: Sequence[Any] | None = None, per_call: int = 1
    ) -> Callable[[], float]:
        """A run of `statement` with `params`, `per_call` jobs a call."""
        jobs = n1 if per_call == 1 else nb

        def run() -> float:
            with psycopg.connect(b.fresh("b_enqueue", template), autocommit=True) as c:
                for _ in range(2):
                    t0 = time.perf_counter()
                    for _ in range(jobs // per_call):
                        c.execute(statement, params)
                return rate(jobs, time.perf_counter() - t0)

        return run

    def peer_row(driver: Callable[..., Any], template: str, mode: str) -> Callable[[], float]:
        """A run of a peer's driver (its repetitions share one client)."""
        jobs = n1 if mode == "enqueue-one" else nb

        def run() -> float:
            r = driver(b.fresh("b_enqueue", template), mode, jobs, 2)
            return rate(r["jobs"], r["runs"][-1])

        return run

    plain = b.template("tpl_plain", build_plain)
    contract = b.template("tpl_contract", build_contract)
    rows: dict[str, Callable[[], float]] = {
        "collab one (api.enqueue)": sql_row(
            tpl, "select id from api.enqueue('bench', 'noop', '{}'::jsonb)"
        ),
        "collab batch (api.enqueue_batch)": sql_row(
            tpl, "select count(*) from api.enqueue_batch(%s::jsonb)", [batch_json(1000)], 1000
        ),
        "baseline one (plain insert)": sql_row(
            plain, "insert into plain_jobs (queue, payload) values ('bench', '{}')"
        ),
        "baseline batch (plain insert)": sql_row(
            plain,
            "insert into plain_jobs (queue, payload)"
            " select 'bench', e from jsonb_array_elements(%s::jsonb) e",
            [json.dumps([{}] * 1000)],
            1000,
        ),
        CONTRACT_ENQUEUE_ROW: sql_row(contract, CONTRACT_ENQUEUE_BATCH, [batch_json(1000)], 1000),
    }
    if "pgmq" in peers:
        pg = b.template("tpl_pgmq", build_pgmq)
        rows["pgmq one (send)"] = sql_row(pg, "select pgmq.send('bench', '{}'::jsonb)")
        rows["pgmq batch (send_batch)"] = sql_row(
            pg,
            "select count(*) from pgmq.send_batch('bench', %s::jsonb[])",
            [[Jsonb({})] * 1000],
            1000,
        )
    drivers = [
        ("graphile-worker", graphile, "tpl_graphile", build_graphile, "addJob", "addJobs"),
        ("awa-pg", awa, "tpl_awa", build_awa, "insert", "insert_many_copy"),
        (
            "procrastinate",
            procrastinate,
            "tpl_procrastinate",
            build_procrastinate,
            "defer",
            "batch_defer",
        ),
    ]
    for peer, driver, name, build, one, many in drivers:
        if peer in peers:
            template = b.template(name, build)
            rows[f"{peer} one ({one})"] = peer_row(driver, template, "enqueue-one")
            rows[f"{peer} batch ({many})"] = peer_row(driver, template, "enqueue-batch")

    for system, r in interleaved(rows, REPEATS).items():
        b.record("enqueue", system, r, "jobs/s")


# -- 2. end to end ----------------------------------------------------------------------------


def collab_drain(
    b: Bench,
    n: int,
    concurrency: int,
    max_batch: int,
    cpu: list[dict[str, float]] | None = None,
    use_asyncio: bool = False,
) -> float:
    """jobs/s of the Python worker draining n no-op jobs: collab.Worker with a sync handler,
    or (use_asyncio) collab.AsyncWorker with an async one, as the peers' handlers are
    (graphile-worker's tasks are async functions, awa-pg's Python handlers coroutines);
    ``cpu``: gets the run's CPU a job (cpu_share; the worker runs in this process, so the
    client is this process)."""
    dsn = b.fresh("b_drain", b.collab_template())
    fill_collab(dsn, n)
    client = Client(dsn, max_size=2 if use_asyncio else 4, application_name="bench-worker")
    try:
        _, drain = worker_runner(
            client, "bench", "bench", concurrency, max_batch, use_asyncio, None
        )
        (m0, s0), c0, t0 = machine_cpu(), time.process_time(), time.perf_counter()
        drain(True)
        seconds = time.perf_counter() - t0
        if cpu is not None:
            m1, s1 = machine_cpu()
            cpu.append(cpu_share(n, seconds, m1 - m0, time.process_time() - c0, s1 - s0))
    finally:
        client.close()
    with psycopg.connect(dsn) as c:
        # Finished jobs are in collab.job_history (revision 0009).
        done = c.execute(
            "select count(*) from collab.job_history where status = 'succeeded'"
        ).fetchone()
    if not done or done[0] != n:
        raise RuntimeError(f"collab drained {done[0] if done else 0} of {n} jobs")
    return rate(n, seconds)


def worker_runner(
    client: Client,
    queue: str,
    name: str,
    concurrency: int,
    max_batch: int,
    use_asyncio: bool,
    on_job: Callable[[Any], None] | None,
) -> tuple[Worker | AsyncWorker, Callable[[bool], None]]:
    """A Collab worker of the queue whose no-op handler calls on_job(ctx): collab.Worker with a
    sync handler, or (use_asyncio) collab.AsyncWorker with an async one; and its run function
    (argument: stop_when_idle), which returns when the worker stops."""
    if use_asyncio:
        aworker = AsyncWorker(client, [queue], concurrency, max_batch=max_batch, name=name)

        @aworker.task("noop")
        async def anoop(ctx: Any) -> None:
            if on_job is not None:
                on_job(ctx)

        return aworker, lambda idle: asyncio.run(aworker.run(stop_when_idle=idle))
    worker = Worker(client, [queue], concurrency, max_batch=max_batch, name=name)

    @worker.task("noop")
    def noop(ctx: Any) -> None:
        if on_job is not None:
            on_job(ctx)

    return worker, lambda idle: worker.run(stop_when_idle=idle)


def drain4(
    b: Bench,
    db: str,
    script: str,
    defines: dict[str, str],
    clients: int,
    cpu: list[dict[str, float]] | None,
) -> float:
    """jobs/s of one pgbench run of a cycle script with 4 jobs in flight in db (filled for it),
    each client starting with nothing claimed (:ids and :toks empty) and ``defines`` besides;
    ``cpu``: gets the run's CPU a job (the client is pgbench; its connection and the counts
    around it are in the figures)."""
    (m0, s0), r0, t0 = machine_cpu(), os.times(), time.perf_counter()
    empty = {"ids": "{}", "toks": "{}"}
    jps = pgbench(b, db, script, b.sizes.pgbench_seconds, empty | defines, clients=clients)
    seconds, r1 = time.perf_counter() - t0, os.times()
    if cpu is not None:
        pgbench_cpu = r1.children_user + r1.children_system - r0.children_user - r0.children_system
        m1, s1 = machine_cpu()
        cpu.append(cpu_share(round(jps * seconds), seconds, m1 - m0, pgbench_cpu, s1 - s0))
    return jps


def contract_drain4(b: Bench, cpu: list[dict[str, float]] | None = None) -> float:
    """The contract's bare writes with 4 jobs in flight (CONTRACT_DRAIN4_ROW), in a fresh
    database: drain4."""
    bare_db(b, "b_drain_contract", "contract", build_contract, supply(b, 6000, runs=1))
    return drain4(b, "b_drain_contract", "contract_cycle2", {}, 2, cpu)


def collab_api_drain4(b: Bench, cpu: list[dict[str, float]] | None = None) -> float:
    """Collab's api calls with 4 jobs in flight and no worker (COLLAB_API_DRAIN4_ROW), in a
    fresh copy of Collab's template: drain4."""
    ex = collab_pgbench_db(b, "b_drain_api", supply(b, 4000, runs=1))
    return drain4(b, "b_drain_api", "collab_cycle4", {"exec": ex}, 1, cpu)


def w_drain(b: Bench, peers: dict[str, Any]) -> None:
    n, slow = b.sizes.drain, b.sizes.drain_slow
    say(f"2. end to end: drain {n:,} pre-enqueued no-op jobs (jobs/s), systems interleaved")
    # The 4-way rows also record their CPU a job (cpu_share): with both cores busy, a row's
    # jobs/s is the machine's CPU divided by it (docs/bench.md, "CPU a job"). Every row is a
    # run in a fresh database; the rows run in rounds (interleaved), as section 1's.
    rows: dict[str, Callable[[], float]] = {}
    cpus: dict[str, list[dict[str, float]]] = {}

    def accounted(system: str) -> list[dict[str, float]]:
        return cpus.setdefault(system, [])

    for c in (4, 32):
        for label, use_asyncio in (("worker", False), ("async worker", True)):
            system = f"collab {label} concurrency {c}"
            cpu = accounted(system) if c == 4 else None
            rows[system] = functools.partial(collab_drain, b, n, c, 1000, cpu, use_asyncio)
    rows["collab high-throughput (concurrency 500, batch claims of 500)"] = functools.partial(
        collab_drain, b, n, 500, 500
    )
    # What any implementation of the contract could reach with 4 jobs in flight: its bare
    # writes with no worker, in the arrangement that measured fastest (one transaction per
    # cycle, 2 clients of 2 jobs: docs/bench.md, "What bounds the 4-way row"), each run in a
    # fresh database like the drains above.
    rows[CONTRACT_DRAIN4_ROW] = functools.partial(
        contract_drain4, b, accounted(CONTRACT_DRAIN4_ROW)
    )
    # What Collab's api calls reach with 4 jobs in flight and no worker (pgbench the client), in
    # their cheapest arrangement a job: whether a row below its target is the worker's or the
    # api's (docs/bench.md, "Collab's api with no worker").
    rows[COLLAB_API_DRAIN4_ROW] = functools.partial(
        collab_api_drain4, b, accounted(COLLAB_API_DRAIN4_ROW)
    )
    if "graphile-worker" in peers:
        gw = b.template("tpl_graphile", build_graphile)

        def gw_drain(
            c: int, local_queue: int = 0, cpu: list[dict[str, float]] | None = None
        ) -> float:
            dsn = b.fresh("b_drain", gw)
            r = graphile(dsn, "drain", n, c, local_queue)
            if cpu is not None:  # measured by the harness over its timed drain
                cpu.append(
                    cpu_share(
                        r["jobs"], r["seconds"], r["machine_cpu"], r["node_cpu"], r["stolen_cpu"]
                    )
                )
            return rate(r["jobs"], r["seconds"])

        for c in (4, 32):
            system = f"graphile-worker -j {c}"
            rows[system] = functools.partial(gw_drain, c, cpu=accounted(system) if c == 4 else None)
        rows["graphile-worker -j 32, local queue of 500"] = functools.partial(gw_drain, 32, 500)
    if "procrastinate" in peers:
        pr = b.template("tpl_procrastinate", build_procrastinate)

        def pr_drain(c: int) -> float:
            dsn = b.fresh("b_drain", pr)
            r = procrastinate(dsn, "drain", slow, c)
            return rate(r["jobs"], r["seconds"])

        for c in (4, 32):
            rows[f"procrastinate concurrency {c} ({slow:,} jobs)"] = functools.partial(pr_drain, c)
    if "awa-pg" in peers:
        aw = b.template("tpl_awa", build_awa)
        na = b.sizes.drain_awa

        def awa_drain(c: int) -> float:
            dsn = b.fresh("b_drain", aw)
            r = awa(dsn, "drain", na, c)
            return rate(r["jobs"], r["seconds"])

        for c in (4, 32):
            rows[f"awa-pg {c} workers ({na:,} jobs)"] = functools.partial(awa_drain, c)
    for system, runs in interleaved(rows, REPEATS).items():
        record_drain(b, system, runs, cpus.get(system, []))


# -- 3. SQL level (pgbench) -------------------------------------------------------------------

# The contract's claim of :k jobs (lease, fresh token, `claimed` events) and its completion of
# the jobs in :ids under the tokens in :toks (fenced delete, history, `succeeded` events), as
# CTEs; CONTRACT_CLAIMED hands the claimed ids and tokens to the next statement.
CONTRACT_CLAIM = """c as (update contract_jobs j set status = 'running', attempt = j.attempt + 1,
    lease_token = gen_random_uuid(), lease_expires_at = now() + interval '300 s', claimed_at = now()
  where j.id in (select x.id from contract_jobs x where x.queue = 'bench' and x.status = 'queued'
                   and x.run_at <= now() order by x.priority desc, x.run_at, x.id
                   limit :k for update skip locked)
  returning j.id, j.lease_token, j.attempt),
c_e as (insert into contract_events (job_id, type, attempt)
        select id, 'claimed', attempt from c order by id)"""
CONTRACT_COMPLETE = """m as (delete from contract_jobs j using unnest(':ids'::bigint[], ':toks'::uuid[]) u(id, tok)
           where j.id = u.id and j.lease_token = u.tok returning j.*),
h as (insert into contract_history
      select id, queue, payload, attempt, lease_token, null, now() from m),
e as (insert into contract_events (job_id, type, attempt)
      select id, 'succeeded', attempt from m order by id)"""
CONTRACT_CLAIMED = """
select coalesce(array_agg(id)::text, '{}') as ids, coalesce(array_agg(lease_token)::text, '{}') as toks
  from c \\gset
"""

# Collab's cycle without the api's rules (bench/cycle_cost.py's ladder, and the SQL row
# RULES_FREE_ROW): the contract's bare writes written for Collab's tables (their keys, indexes,
# CHECK constraints and partitions), each statement naming itself in collab.statement_events
# first, as the api's statements do, so the events triggers fire and return at once; in
# ladder_functions, in two SECURITY DEFINER PL/pgSQL functions with the SET options of
# api.claim and api.complete. What it leaves out is the api's rules: the caller's role, the
# executor, the rate limits, the queues' states, the lease-expiry gate, the claim mark, the
# wake-ups, the conflict metric, the job's owner, the result's size.
# Placeholders: {ex} and {ws} the executor and its workspace, {jid} and {tok} the claimed job
# and its token (SQL expressions), {into} the variables the ids go into.
LADDER_CLAIM = """
with c as (update collab.jobs j set status = 'running', last_event = 'claimed',
    attempt = j.attempt + 1, executor_id = {ex}, lease_token = gen_random_uuid(),
    lease_seconds = 300, lease_expires_at = now() + interval '300 s', claimed_at = now()
  where j.workspace_id = {ws} and j.id in (
    select x.id from collab.jobs x
     where x.workspace_id = {ws} and x.queue = 'bench' and x.status = 'queued'
       and x.run_at <= now()
     order by x.priority desc, x.run_at, x.id limit 1 for update skip locked)
  returning j.*),
e as (insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt,
                                     executor_id, data, created_at)
      select c.workspace_id, c.id, 'claimed', c.queue, c.type, c.attempt, c.executor_id,
             jsonb_build_object('lease_expires_at', c.lease_expires_at), now()
        from c order by c.id)
select c.id, c.lease_token into {into} from c;"""
LADDER_COMPLETE = """
with m as (delete from collab.jobs x
            where x.id = {jid} and x.workspace_id = {ws}
              and x.lease_expires_at is not null and x.lease_token = {tok}
           returning x.*),
d as (insert into collab.job_history
      select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'succeeded',
             'succeeded', m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id,
             m.lease_token, m.lease_seconds, null, m.cancel_requested, m.progress,
             m.progress_message, null, m.last_error, m.created_at, m.claimed_at, now()
        from m
      returning *),
e as (insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt,
                                     executor_id, data, created_at)
      select d.workspace_id, d.id, 'succeeded', d.queue, d.type, d.attempt, d.executor_id,
             '{{}}'::jsonb, now()
        from d)
select count(*) into {into} from d;"""
NAMED = "perform set_config('collab.statement_events', '{table}', true);"
LADDER_FUNCTIONS = """
create function public.ladder_claim(executor_id uuid, workspace_id uuid,
                                    out job_id bigint, out token uuid)
language plpgsql security definer {claim_set} as $f$
begin
  {claim}
end $f$;
create function public.ladder_complete(job_id bigint, token uuid, workspace_id uuid)
returns bigint
language plpgsql security definer {complete_set} as $f$
declare n bigint;
begin
  {complete}
  return n;
end $f$;
"""


def set_options(c: psycopg.Connection[Any], function: str) -> str:
    """The SET clauses of an api function, as written in its CREATE FUNCTION."""
    row = c.execute("select proconfig from pg_proc where oid = %s::regprocedure", [function])
    config = row.fetchone()
    assert config is not None
    return " ".join("set {} = {}".format(*o.split("=", 1)) for o in config[0] or [])


def ladder_functions(dsn: str) -> None:
    """public.ladder_claim and public.ladder_complete: the ladder's statements, each named in
    collab.statement_events, in SECURITY DEFINER functions with the api functions' options."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(  # type: ignore[call-overload]  # statements built here, not input
            LADDER_FUNCTIONS.format(
                claim_set=set_options(c, "api.claim(uuid, text[], integer, integer)"),
                complete_set=set_options(c, "api.complete(bigint, uuid, jsonb)"),
                claim=NAMED.format(table="collab.jobs")
                + LADDER_CLAIM.format(
                    ex="ladder_claim.executor_id",
                    ws="ladder_claim.workspace_id",
                    into="job_id, token",
                ),
                complete=NAMED.format(table="collab.job_history")
                + LADDER_COMPLETE.format(
                    jid="ladder_complete.job_id",
                    tok="ladder_complete.token",
                    ws="ladder_complete.workspace_id",
                    into="n",
                ),
            )
        )


# Collab's claim of :k jobs into the pgbench variables :ids and :toks, and the completion of
# the jobs they name (none on a first transaction, when they start empty).
COLLAB_CLAIM_IDS = """
select coalesce(array_agg(id)::text, '{}') as ids, coalesce(array_agg(lease_token)::text, '{}') as toks
  from api.claim(':exec'::uuid, '{bench}'::text[], :k, 300) \\gset
"""
COLLAB_COMPLETE_IDS = """
select count(*) from api.complete_batch((select coalesce(jsonb_agg(jsonb_build_object(
  'job_id', i, 'lease_token', t)), '[]') from unnest(':ids'::bigint[], ':toks'::uuid[]) u(i, t)));
"""

SCRIPTS = {
    "collab1": """
select coalesce(max(id), 0) as id, coalesce(max(lease_token::text), '') as tok
  from api.claim(':exec'::uuid, '{bench}'::text[], 1, 300) \\gset
\\if :id
select id from api.complete(:id, ':tok'::uuid, null);
\\endif
""",
    "collab10": COLLAB_CLAIM_IDS.replace(":k", "10") + COLLAB_COMPLETE_IDS,
    # Collab's api calls as a worker with 4 jobs in flight could make them, with no worker at
    # all (pgbench is the client): one transaction completes (api.complete_batch, under their
    # tokens) the 4 jobs this client claimed in its previous one and claims the next 4
    # (api.claim). One client of 4: the arrangement of the api's calls that cost the least a
    # job (docs/bench.md, "Collab's api with no worker"). :ids and :toks start empty (pgbench -D).
    "collab_cycle4": "begin;"
    + COLLAB_COMPLETE_IDS
    + COLLAB_CLAIM_IDS.replace(":k", "4")
    + "commit;\n",
    # Collab's cycle without the api's rules (ladder_functions): :exec and :ws, the executor
    # and its workspace; read as a "collab" row (pgbench's kind), on Collab's tables.
    "collab_ladder1": """
select coalesce(max(job_id), 0) as id, coalesce(max(token::text), '') as tok
  from public.ladder_claim(':exec'::uuid, ':ws'::uuid) \\gset
\\if :id
select public.ladder_complete(:id, ':tok'::uuid, ':ws'::uuid);
\\endif
""",
    "plain1": """
with c as (update plain_jobs set locked_at = now() where id = (
  select id from plain_jobs where locked_at is null order by id limit 1 for update skip locked)
  returning id)
select coalesce(max(id), 0) as id from c \\gset
\\if :id
delete from plain_jobs where id = :id;
\\endif
""",
    "plain10": """
with c as (update plain_jobs set locked_at = now() where id in (
  select id from plain_jobs where locked_at is null order by id limit 10 for update skip locked)
  returning id)
select coalesce(array_agg(id)::text, '{}') as ids from c \\gset
delete from plain_jobs where id = any(':ids'::bigint[]);
""",
    "pgmq1": """
select coalesce(max(msg_id), 0) as id from pgmq.read('bench', 300, 1) \\gset
\\if :id
select pgmq.archive('bench', :id::bigint);
\\endif
""",
    "pgmq10": """
select coalesce(array_agg(msg_id)::text, '{}') as ids from pgmq.read('bench', 300, 10) \\gset
select pgmq.archive('bench', ':ids'::bigint[]);
""",
    # build_contract: a claim (lease, token, event) and a fenced completion (move to the
    # history, event), each one statement.
    "contract1": """
with c as (update contract_jobs j set status = 'running', attempt = j.attempt + 1,
    lease_token = gen_random_uuid(), lease_expires_at = now() + interval '300 s', claimed_at = now()
  where j.id = (select x.id from contract_jobs x where x.queue = 'bench' and x.status = 'queued'
                  and x.run_at <= now() order by x.priority desc, x.run_at, x.id
                  limit 1 for update skip locked)
  returning j.id, j.lease_token, j.attempt),
e as (insert into contract_events (job_id, type, attempt) select id, 'claimed', attempt from c)
select coalesce(max(id), 0) as id, coalesce(max(lease_token::text), '') as tok from c \\gset
\\if :id
with m as (delete from contract_jobs j where j.id = :id and j.lease_token = ':tok'::uuid
           returning j.*),
h as (insert into contract_history
      select id, queue, payload, attempt, lease_token, null, now() from m),
e as (insert into contract_events (job_id, type, attempt) select id, 'succeeded', attempt from m)
select count(*) from m;
\\endif
""",
    "contract10": "with "
    + CONTRACT_CLAIM.replace(":k", "10")
    + CONTRACT_CLAIMED
    + "with "
    + CONTRACT_COMPLETE
    + "\nselect count(*) from m;\n",
    # The contract's bare writes as a worker with 2 jobs in flight would make them: one
    # transaction completes (fenced, to the history, with events) the 2 jobs this client
    # claimed in its previous transaction and claims the next 2 (lease, token, events). One
    # commit per cycle instead of two; :ids and :toks start empty (pgbench -D).
    "contract_cycle2": "with "
    + CONTRACT_COMPLETE
    + ",\n"
    + CONTRACT_CLAIM.replace(":k", "2")
    + CONTRACT_CLAIMED,
}

DONE_SQL = {
    "collab": "select count(*) from collab.job_history where status = 'succeeded'",
    "plain": "select -count(*) from plain_jobs",
    "pgmq": "select count(*) from pgmq.a_bench",
    "contract": "select count(*) from contract_history",
}


LEFT_SQL = {
    "collab": "select count(*) from collab.jobs where status = 'queued'",
    "plain": "select count(*) from plain_jobs where locked_at is null",
    "pgmq": "select count(*) from pgmq.q_bench where vt < now()",
    "contract": "select count(*) from contract_jobs where status = 'queued'",
}


def pgbench(
    b: Bench, db: str, script: str, seconds: int, defines: dict[str, str], clients: int = 4
) -> float:
    """Run one pgbench script (``clients`` clients, 4 unless told); return jobs/s (jobs actually
    finished)."""
    kind = re.sub(r"[_\d].*$", "", script)  # collab1 -> collab, contract_cycle2 -> contract
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(SCRIPTS[script])
        path = f.name
    try:
        with b.connect(db) as c:
            before = c.execute(DONE_SQL[kind]).fetchone()[0]
        cmd = [str(find_bin_dir() / "pgbench"), "-n", "-c", str(clients)]
        cmd += ["-j", str(min(2, clients)), "-T", str(seconds)]
        cmd += ["-h", "127.0.0.1", "-p", str(b.port), "-U", "postgres", "-f", path]
        for k, v in defines.items():
            cmd += ["-D", f"{k}={v}"]
        env = dict(os.environ, PGPASSWORD="postgres")
        env.update(b.pg_options)
        proc = subprocess.run([*cmd, db], capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise RuntimeError("pgbench: " + (proc.stderr.strip().splitlines() or ["?"])[-1])
        tps = float(re.search(r"tps = ([\d.]+) \(without initial", proc.stdout).group(1))  # type: ignore[union-attr]
        txs = int(re.search(r"actually processed: (\d+)", proc.stdout).group(1))  # type: ignore[union-attr]
        with b.connect(db) as c:
            after = c.execute(DONE_SQL[kind]).fetchone()[0]
            left = c.execute(LEFT_SQL[kind]).fetchone()[0]
        if left == 0:
            b.results["errors"][f"pgbench {db} {script}"] = "the queue ran dry: figure too low"
            say(f"  warning: {script} ran the queue dry; raise its supply")
        return tps * (after - before) / max(txs, 1)
    finally:
        os.unlink(path)


# Where a row's backends spend their time: pg_stat_activity sampled while pgbench runs.
WAIT_KINDS = ("cpu", "commit flush", "client", "locks", "other")
WAITS_SQL = (
    "select state, wait_event_type, wait_event from pg_stat_activity"
    " where datname = %s and application_name = %s and pid <> pg_backend_pid()"
)


def wait_kind(state: str | None, wait_type: str | None, wait_event: str | None) -> str:
    """What a backend sampled from pg_stat_activity was doing: "cpu" (running a statement,
    no wait event), "commit flush" (writing or syncing WAL, or waiting for another backend's
    flush to end: a commit waits for its WAL on disk), "client" (idle, or waiting for the
    client's next message), "locks" (a heavyweight lock: another transaction's row, a tuple,
    a relation) or "other" (every other wait: buffer contention, I/O of data files, ...)."""
    if wait_type == "Client" or (wait_type is None and (state or "").startswith("idle")):
        return "client"
    if wait_type is None:
        return "cpu"
    if (wait_type, wait_event) in (("IO", "WALSync"), ("IO", "WALWrite"), ("LWLock", "WALWrite")):
        return "commit flush"
    return "locks" if wait_type == "Lock" else "other"


@contextlib.contextmanager
def backend_waits(
    url: str, db: str, application: str = "pgbench", every: float = 0.005
) -> Iterator[dict[str, int]]:
    """Samples, every `every` seconds while the block runs, the backends of database db whose
    application_name is `application`, from a connection to url; yields the counts by
    wait_kind, final once the block ends. A sampler that fails fails the block."""
    counts = dict.fromkeys(WAIT_KINDS, 0)

    def sample(ready: threading.Event, done: threading.Event) -> None:
        with psycopg.connect(url, autocommit=True) as c:
            ready.set()
            while not done.is_set():
                for row in c.execute(WAITS_SQL, [db, application]):
                    counts[wait_kind(*row)] += 1
                done.wait(every)

    with on_thread("the wait sampler", sample):
        yield counts


def wait_shares(counts: dict[str, int]) -> dict[str, float]:
    """counts (backend_waits) as shares of all the samples, in WAIT_KINDS order."""
    total = sum(counts.values())
    return {k: counts.get(k, 0) / total if total else 0.0 for k in WAIT_KINDS}


def waits_text(shares: dict[str, float]) -> str:
    return ", ".join(f"{k} {shares.get(k, 0.0):.0%}" for k in WAIT_KINDS)


# The WAL's syncs (every process's: pg_stat_wal is the cluster's) and db's commits; the sync
# time needs track_wal_io_timing, which Bench.start turns on.
FLUSH_SQL = (
    "select w.wal_sync, w.wal_sync_time, d.xact_commit from pg_stat_wal w, pg_stat_database d"
    " where d.datname = %s"
)


def flush_counters(c: psycopg.Connection[Any], db: str) -> tuple[float, float, float, float]:
    """(monotonic seconds, WAL syncs, ms spent syncing, db's commits), for flush_figures; c
    in autocommit, so each call reads the statistics afresh."""
    row = c.execute(FLUSH_SQL, [db]).fetchone()
    assert row is not None, f"no database {db}"
    return (time.monotonic(), *(float(x) for x in row))


def flush_figures(
    before: tuple[float, float, float, float], after: tuple[float, float, float, float]
) -> dict[str, float]:
    """Between two flush_counters: WAL syncs a second, db's commits a sync, the mean sync (ms)
    and the share of the time the WAL was being synced. A cycle that commits twice a job is
    bound by its flushes when that share nears 1: each commit waits for its WAL on disk, and
    the commits of one sync are those that came while the one before it ran."""
    seconds, syncs, sync_ms, commits = (a - b for a, b in zip(after, before, strict=True))
    return {
        "syncs_per_s": syncs / seconds if seconds > 0 else 0.0,
        "commits_per_sync": commits / syncs if syncs else 0.0,
        "sync_ms": sync_ms / syncs if syncs else 0.0,
        "syncing": sync_ms / 1000 / seconds if seconds > 0 else 0.0,
    }


def workspace_of(dsn: str, ex: str) -> str:
    """The workspace of executor ex in the database at dsn."""
    with psycopg.connect(dsn) as c:
        row = c.execute("select workspace_id from collab.executors where id = %s", [ex])
        ws = row.fetchone()
    assert ws is not None
    return str(ws[0])


def executor(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as c:
        row = c.execute("select api.register_executor('bench', '{bench}')").fetchone()
    assert row is not None
    return str(row[0]).strip("()").split(",")[0] if not _is_uuid(row[0]) else str(row[0])


def _is_uuid(value: Any) -> bool:
    return bool(re.fullmatch(r"[0-9a-f-]{36}", str(value)))


# The claim and the completions write their events in their own statements (a data-modifying
# WITH named "written", then a wake-up of the stream; docs/architecture.md, "The job
# lifecycle"), every other change through the triggers of collab.jobs and collab.job_history.
EVENT_WRITERS = (
    "api.claim(uuid, text[], integer, integer)",
    "api.complete(bigint, uuid, jsonb)",
    "api.complete_batch(jsonb)",
)
WRITTEN_CTE = re.compile(r",\s*written as \((?:[^()]|\([^()]*\))*\)")
STREAM_WAKE = "perform collab.notify_events(ws);"


def triggers_off(dsn: str) -> None:
    """The events triggers of collab.jobs and collab.job_history disabled."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("alter table collab.jobs disable trigger user")
        c.execute("alter table collab.job_history disable trigger user")


def events_off(dsn: str) -> None:
    """The same build without its events, for the overhead row: the triggers of collab.jobs
    and collab.job_history disabled, and the EVENT_WRITERS' own event inserts and wake-ups
    taken out. Fails if a function no longer holds exactly one of each."""
    triggers_off(dsn)
    with psycopg.connect(dsn, autocommit=True) as c:
        for fn in EVENT_WRITERS:
            row = c.execute("select pg_get_functiondef(%s::regprocedure)", [fn]).fetchone()
            assert row is not None
            src, ctes = WRITTEN_CTE.subn("", str(row[0]))
            if ctes != 1 or src.count(STREAM_WAKE) != 1:
                raise RuntimeError(f"{fn}: expected one written CTE and one wake-up to take out")
            c.execute(src.replace(STREAM_WAKE, "null;"))


def collab_pgbench_db(
    b: Bench,
    name: str,
    jobs: int,
    events: bool = True,
    change: Callable[[str], None] | None = None,
) -> str:
    """A fresh copy of Collab's template named name, holding `jobs` queued jobs of queue bench,
    vacuumed and checkpointed; its executor's id. events=False: events_off first; change: called
    with the copy's URL before the fill (bench/cycle_cost.py's variants)."""
    dsn = b.fresh(name, b.collab_template())
    if not events:
        events_off(dsn)
    if change is not None:
        change(dsn)
    fill_collab(dsn, jobs)
    settle(dsn)
    return executor(dsn)


def settle(dsn: str) -> None:
    """Vacuum and checkpoint after a fill, so the timed runs do not pay for the fill."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("vacuum analyze")
        c.execute("checkpoint")


def supply(b: Bench, per_job_rate: float, runs: int = REPEATS) -> int:
    return int(per_job_rate * b.sizes.pgbench_seconds * runs * 1.3) + 1000


def bare_db(b: Bench, db: str, kind: str, build: Callable[[str], None], jobs: int) -> None:
    """A fresh database db of the bare `kind` tables (build_plain, build_contract), holding
    `jobs` queued jobs of queue bench, vacuumed and checkpointed."""
    dsn = b.fresh(db, b.template(f"tpl_{kind}", build))
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(
            sql.SQL(
                "insert into {} (queue, payload) select 'bench', '{{}}' from generate_series(1, %s)"
            ).format(sql.Identifier(f"{kind}_jobs")),
            [jobs],
        )
    settle(dsn)


CONTRACT_PREFIX = "the contract's writes in plain SQL"
CONTRACT_ROW = CONTRACT_PREFIX + " (build_contract), {k} per tx"
RULES_FREE_ROW = "collab without the api's rules (ladder_functions), 1 per tx"
CONTRACT_ENQUEUE_ROW = CONTRACT_PREFIX + " (build_contract), batch: a job and its event each"
CONTRACT_DRAIN4_ROW = (
    CONTRACT_PREFIX + " (build_contract), concurrency 4: 2 clients, each completing its 2 jobs"
    " and claiming 2 more in one transaction"
)
COLLAB_API_DRAIN4_ROW = (
    "collab's api with no worker (pgbench), concurrency 4: 1 client completing its 4 jobs"
    " (api.complete_batch) and claiming 4 more (api.claim) in one transaction"
)


def w_sql(b: Bench, peers: dict[str, Any]) -> None:
    t = b.sizes.pgbench_seconds
    say(f"3. SQL level: pgbench, 4 clients, {t} s per run, systems interleaved (jobs/s)")
    # (label, database, script, defines): every database is filled first, then the runs go
    # round-robin, so a burst of other work on the machine hits every system alike.
    configs: list[tuple[str, str, str, dict[str, str]]] = []
    for k in (1, 10):
        db = f"b_sql_collab{k}"
        # Enough for the rate of the peers' best (pgmq, 10 per read, about 18,000 jobs/s):
        # 6,000 ran dry in the third 10 s run at 9,000 jobs/s, which cut that run short.
        ex = collab_pgbench_db(b, db, supply(b, (2500, 14000)[k > 1]))
        configs.append(
            (f"collab api.claim+api.complete, {k} per tx", db, f"collab{k}", {"exec": ex})
        )
    # Its statements on its tables, with its triggers, in two functions, without the api's
    # rules: where the 1/tx rows stand before the rules (docs/bench.md, "The ladder").
    db = "b_sql_ladder1"
    ex = collab_pgbench_db(b, db, supply(b, 3000), change=ladder_functions)
    configs.append(
        (RULES_FREE_ROW, db, "collab_ladder1", {"exec": ex, "ws": workspace_of(b.url(db), ex)})
    )
    # The SKIP LOCKED floor and the contract's bare writes: a table of jobs filled by one insert.
    bare = [
        (
            "plain",
            build_plain,
            (4000, 20000),
            "baseline SKIP LOCKED claim tx + delete tx, {k} per tx",
        ),
        ("contract", build_contract, (3000, 16000), CONTRACT_ROW),
    ]
    for kind, build, rates, label in bare:
        for k in (1, 10):
            db = f"b_sql_{kind}{k}"
            bare_db(b, db, kind, build, supply(b, rates[k > 1]))
            configs.append((label.format(k=k), db, f"{kind}{k}", {}))
    if "pgmq" in peers:
        for k in (1, 10):
            db = f"b_sql_pgmq{k}"
            dsn = b.fresh(db, b.template("tpl_pgmq", build_pgmq))
            with psycopg.connect(dsn, autocommit=True) as c:
                n = supply(b, (4000, 20000)[k > 1])
                for start in range(0, n, 10000):
                    c.execute(
                        "select count(*) from pgmq.send_batch('bench',"
                        " array(select '{}'::jsonb from generate_series(1, %s)))",
                        [min(10000, n - start)],
                    )
            settle(dsn)
            configs.append((f"pgmq read+archive, {k} per read", db, f"pgmq{k}", {}))
    runs: dict[str, list[float]] = {label: [] for label, *_ in configs}
    waits = {label: dict.fromkeys(WAIT_KINDS, 0) for label, *_ in configs}
    flushes: dict[str, list[dict[str, float]]] = {label: [] for label, *_ in configs}
    with b.connect("postgres") as c:
        for _ in range(REPEATS):
            for label, db, script, defines in configs:
                before = flush_counters(c, db)
                with backend_waits(b.url("postgres"), db) as seen:
                    runs[label].append(pgbench(b, db, script, t, defines))
                flushes[label].append(flush_figures(before, flush_counters(c, db)))
                for k, n in seen.items():
                    waits[label][k] += n
    say(
        "  where each row's backends spent their time (pg_stat_activity every 5 ms) and the"
        " WAL's syncs (pg_stat_wal; medians of the runs):"
    )
    for label, *_ in configs:
        shares = wait_shares(waits[label])
        flush = {k: statistics.median(f[k] for f in flushes[label]) for k in flushes[label][0]}
        b.record("sql", label, runs[label], "jobs/s", waits=shares, flush=flush)
        say(
            f"    {waits_text(shares)}; {flush['syncs_per_s']:,.0f} syncs/s of"
            f" {flush['sync_ms']:.2f} ms ({flush['syncing']:.0%} of the time),"
            f" {flush['commits_per_sync']:.2f} commits a sync"
        )


# -- 4. wake-up latency -----------------------------------------------------------------------


def sleep_until_due(t0: float, i: int, per_second: float) -> None:
    """Sleep until call i of a pace of per_second calls a second that started at t0
    (time.perf_counter()) is due; at once when it is late."""
    wait = t0 + i / per_second - time.perf_counter()
    if wait > 0:
        time.sleep(wait)


# Section 4's enqueue: one job of queue wake, its payload the time of the call (ms since the
# epoch), which the consumer subtracts from its start.
COLLAB_WAKE_ENQUEUE = (
    "select id from api.enqueue('wake', 'noop', jsonb_build_object('t', %s::float8))"
)


def enqueue_paced(c: psycopg.Connection[Any], statement: str, n: int, per_second: float) -> None:
    """Run `statement` n times on c at per_second, one per transaction; its one parameter is
    the time of the call (ms since the epoch), which the consumer subtracts from its start."""
    t0 = time.perf_counter()
    for i in range(n):
        sleep_until_due(t0, i, per_second)
        c.execute(statement, [time.time() * 1000])


def wait_until(done: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.time() + seconds
    while not done() and time.time() < deadline:
        time.sleep(0.01)


@contextlib.contextmanager
def on_thread(
    what: str, body: Callable[[threading.Event, threading.Event], None]
) -> Iterator[list[BaseException]]:
    """Run body(ready, done) on a daemon thread: it sets ready once it listens, and returns
    when done is set. The block runs once ready is set (at most 10 s later), with the list
    body's exception goes to (so its waits can end early); on the way out done is set, the
    thread joined, and body's exception raised as "<what> failed"."""
    ready, done = threading.Event(), threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            body(ready, done)
        except BaseException as e:  # raised below
            failed.append(e)
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield failed
    finally:
        done.set()
        thread.join(15)
    if failed:
        raise RuntimeError(f"{what} failed: {failed[0]!r}")


def collab_wake(b: Bench, n: int, per_second: float, use_asyncio: bool = False) -> list[float]:
    """Latencies (ms) from enqueue to handler start of an idle 4-slot worker, n jobs enqueued one
    per transaction at per_second: collab.Worker, or (use_asyncio) collab.AsyncWorker."""
    dsn = b.fresh("b_wake", b.collab_template())
    latencies: list[float] = []
    client = Client(dsn, max_size=2 if use_asyncio else 4, application_name="bench-worker")
    worker, run = worker_runner(
        client,
        "wake",
        "bench-wake",
        4,
        1000,
        use_asyncio,
        lambda ctx: latencies.append(time.time() * 1000 - float(ctx.payload["t"])),
    )
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("select id from api.enqueue('wake', 'warmup', '{}'::jsonb)")
        c.execute("delete from collab.jobs")
    thread = threading.Thread(target=run, args=(False,), daemon=True)
    thread.start()
    time.sleep(0.5)
    try:
        with psycopg.connect(dsn, autocommit=True) as c:
            enqueue_paced(c, COLLAB_WAKE_ENQUEUE, n, per_second)
        wait_until(lambda: len(latencies) >= n)
    finally:
        worker.stop()
        thread.join(15)
        client.close()
    if len(latencies) < n:
        raise RuntimeError(f"collab worker started {len(latencies)} of {n} jobs")
    return latencies


# The wake-up of the contract's bare writes (build_contract): the producer's one statement writes
# the job, its `enqueued` event and the notification; one Python thread LISTENs and, at each
# notification, claims on a second connection (CONTRACT_CLAIM: lease, fresh token, `claimed`
# event; up to 4, the worker's slots), starts the jobs it got, completes them (CONTRACT_COMPLETE)
# and claims again until nothing is left. No pool, no thread hand-off, no checks: what any
# Python worker of the contract pays at least, on this machine (docs/bench.md, section 4).
CONTRACT_WAKE_ENQUEUE = """
with j as (insert into contract_jobs (queue, payload)
           values ('bench', jsonb_build_object('t', %s::float8)) returning id, attempt),
e as (insert into contract_events (job_id, type, attempt) select id, 'enqueued', attempt from j)
select pg_notify('contract_jobs', '')
"""
CONTRACT_WAKE_CLAIM = (
    "with "
    + CONTRACT_CLAIM.replace(":k", "4")
    + "\nselect c.id, c.lease_token, (x.payload ->> 't')::float8 from c"
    " join contract_jobs x on x.id = c.id order by c.id"
)
CONTRACT_WAKE_COMPLETE = (
    "with "
    + CONTRACT_COMPLETE.replace("':ids'", "%s").replace("':toks'", "%s")
    + "\nselect count(*) from m"
)
CONTRACT_WAKE_ROW = CONTRACT_PREFIX + " (build_contract), one thread: LISTEN, claim of up to 4"


def contract_wake_run(dsn: str, n: int, per_second: float) -> list[float]:
    """Wake-up latencies (ms, enqueue call to job start) of the contract's bare writes in dsn
    (build_contract): n jobs enqueued one per transaction at per_second, after one untimed."""
    latencies: list[float] = []

    def consume(listening: threading.Event, done: threading.Event) -> None:
        with (
            psycopg.connect(dsn, autocommit=True) as listen,
            psycopg.connect(dsn, autocommit=True) as c,
        ):
            listen.execute("listen contract_jobs")
            listening.set()
            while not done.is_set():
                for _ in listen.notifies(timeout=0.2, stop_after=1):
                    while rows := c.execute(CONTRACT_WAKE_CLAIM).fetchall():
                        started = time.time() * 1000
                        latencies.extend(started - t for _, _, t in rows)
                        c.execute(
                            CONTRACT_WAKE_COMPLETE, [[r[0] for r in rows], [r[1] for r in rows]]
                        )

    with on_thread("the contract's wake-up consumer", consume) as failed:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(CONTRACT_WAKE_ENQUEUE, [time.time() * 1000])
            wait_until(lambda: bool(latencies or failed))
            latencies.clear()
            time.sleep(0.5)
            enqueue_paced(c, CONTRACT_WAKE_ENQUEUE, n, per_second)
        wait_until(lambda: len(latencies) >= n or bool(failed))
    if len(latencies) != n:
        raise RuntimeError(f"the contract's wake-up consumer started {len(latencies)} of {n} jobs")
    return latencies


def contract_wake(b: Bench, n: int, per_second: float) -> list[float]:
    return contract_wake_run(
        b.fresh("b_wake_contract", b.template("tpl_contract", build_contract)), n, per_second
    )


def w_wake(b: Bench, peers: dict[str, Any]) -> None:
    n = b.sizes.wake_jobs
    say(
        f"4. wake-up latency: idle worker, {n} jobs enqueued one per transaction at 50/s (ms),"
        " systems interleaved"
    )

    def report(system: str, runs: list[list[float]]) -> None:
        p50 = [pct(r, 50) for r in runs]
        p99 = [pct(r, 99) for r in runs]
        b.record("wake", f"{system} p50", p50, "ms")
        b.record("wake", f"{system} p99", p99, "ms")

    # Each run a fresh database; the systems in rounds (interleaved), as sections 1 and 2.
    rows: dict[str, Callable[[], list[float]]] = {
        "collab worker": functools.partial(collab_wake, b, n, 50),
        "collab async worker": functools.partial(collab_wake, b, n, 50, True),
        CONTRACT_WAKE_ROW: functools.partial(contract_wake, b, n, 50),
    }
    if "graphile-worker" in peers:
        gw = b.template("tpl_graphile", build_graphile)
        rows["graphile-worker"] = lambda: graphile(b.fresh("b_wake", gw), "wake", n, 50)[
            "latencies_ms"
        ]
    for system, runs in interleaved(rows, b.sizes.wake_rounds).items():
        report(system, runs)


# -- 5. overhead ------------------------------------------------------------------------------


def w_overhead(b: Bench, peers: dict[str, Any]) -> None:
    t = b.sizes.pgbench_seconds
    say("5. overhead: claim+complete (pgbench, 1 per tx) with events on vs off")
    ex_on = collab_pgbench_db(b, "b_over_on", supply(b, 2500))
    ex_off = collab_pgbench_db(b, "b_over_off", supply(b, 3000), events=False)
    on: list[float] = []
    off: list[float] = []
    for _ in range(REPEATS):  # interleaved, so background noise hits both alike
        on.append(pgbench(b, "b_over_on", "collab1", t, {"exec": ex_on}))
        off.append(pgbench(b, "b_over_off", "collab1", t, {"exec": ex_off}))
    b.record("overhead", "collab, events on", on, "jobs/s")
    b.record("overhead", "collab, events off", off, "jobs/s")


# -- 6. growth --------------------------------------------------------------------------------


def w_growth(b: Bench, peers: dict[str, Any]) -> None:
    t = b.sizes.pgbench_seconds
    say("6. growth: claim+complete (pgbench, 1 per tx) with N finished jobs in the table")
    for n in b.sizes.growth:
        dsn = b.fresh("b_growth", b.collab_template())
        ex = executor(dsn)
        fill_collab(dsn, supply(b, 2500))
        with psycopg.connect(dsn, autocommit=True) as c:
            # Finished jobs live in collab.job_history (revision 0009); written there, as the
            # moves write them, without their events (the trigger is off for the fill).
            c.execute("alter table collab.job_history disable trigger user")
            c.execute(
                "insert into collab.job_history (id, workspace_id, queue, type, payload, priority,"
                " status, last_event, run_at, attempt, max_attempts, lease_token, cancel_requested,"
                " created_at, claimed_at, finished_at)"
                " select nextval('collab.jobs_id_seq'), collab.default_workspace_id(), 'bench', 'noop',"
                " '{}', 0, 'succeeded', 'succeeded', now(), 1, 3, gen_random_uuid(), false, now(), now(),"
                " now() from generate_series(1, %s)",
                [n],
            )
            c.execute("alter table collab.job_history enable trigger user")
        settle(dsn)
        b.record(
            "growth",
            f"{n:,} finished jobs",
            [pgbench(b, "b_growth", "collab1", t, {"exec": ex}) for _ in range(REPEATS)],
            "jobs/s",
            finished=n,
        )


# -- 7. soak ----------------------------------------------------------------------------------


def claim_index_usage(c: psycopg.Connection[Any]) -> tuple[int, int]:
    """The claim index's file size and the bytes of its leaf pages in use (pgstatindex, of the
    pgstattuple extension). VACUUM deletes the pages a drained backlog emptied and later splits
    reuse them, but the file keeps its high-water mark: the size alone cannot tell an index
    that keeps growing from one that once held a large backlog."""
    row = c.execute(
        "select pg_relation_size(r.i), s.leaf_pages * current_setting('block_size')::int8"
        " from (select 'collab.jobs_queued_claim_idx'::regclass as i) r, pgstatindex(r.i) s"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def soak_load(c: psycopg.Connection[Any]) -> dict[str, float]:
    """What a soak sample records besides sizes, to tell what bounds the run: the machine's
    busy CPU seconds (every process, machine_cpu) and the seconds the host took from it
    (stolen), this process's (the producer and the worker's threads), the database's committed
    transactions, the cluster's WAL flushes (pg_stat_wal.wal_sync), and the hot table's dead
    tuples now and vacuums so far (one read of its statistics row). Differences between two
    samples are what soak_intervals reads."""
    row = c.execute(
        "select (select xact_commit from pg_stat_database where datname = current_database()),"
        " (select wal_sync from pg_stat_wal), t.vacuum_count + t.autovacuum_count, t.n_dead_tup"
        " from pg_stat_user_tables t where t.relid = 'collab.jobs'::regclass"
    ).fetchone()
    assert row is not None
    busy, stolen = machine_cpu()
    return {
        "machine_cpu_s": busy,
        "stolen_cpu_s": stolen,
        "client_cpu_s": time.process_time(),
        "commits": float(row[0]),
        "wal_syncs": float(row[1]),
        "hot_vacuums": float(row[2]),
        "dead_tuples": row[3],
    }


def soak_intervals(samples: list[dict[str, float]]) -> list[dict[str, Any]]:
    """Each interval between two soak samples that both carry soak_load's counters: jobs done
    a second, the backlog at its end, committed transactions a job done, the machine's cores
    busy, its CPU time a job done (the same work takes more of it when the machine is slower),
    the cores the host took from it (None where not sampled: older results files), this
    process's cores, WAL flushes a second, and the vacuums of the hot table in it."""
    out = []
    for a, z in itertools.pairwise(samples):
        if "commits" not in a or "commits" not in z:
            continue
        dt = max(z["t"] - a["t"], 1e-9)
        done = z["done"] - a["done"]
        cpu = z["machine_cpu_s"] - a["machine_cpu_s"]
        out.append(
            {
                "from": a["t"],
                "to": z["t"],
                "jobs_per_s": rate_between([a, z], 0),
                "backlog": z["backlog"],
                "commits_per_job": (z["commits"] - a["commits"]) / max(done, 1),
                "cores_busy": cpu / dt,
                "cpu_us_per_job": cpu * 1e6 / max(done, 1),
                "cores_stolen": (
                    rate_between([a, z], 0, key="stolen_cpu_s")
                    if "stolen_cpu_s" in a and "stolen_cpu_s" in z
                    else None
                ),
                "client_cores": (z["client_cpu_s"] - a["client_cpu_s"]) / dt,
                "wal_syncs_per_s": (z["wal_syncs"] - a["wal_syncs"]) / dt,
                "hot_vacuums": z["hot_vacuums"] - a["hot_vacuums"],
            }
        )
    return out


def soak_section(r: dict[str, Any]) -> list[str]:
    """The soak's intervals (soak_intervals), the peak's and the run's: what the worker did
    with a backlog kept at 5,000 and at the fed rate, and what the machine did meanwhile."""
    phases = [
        (name, soak_intervals(r[key]["samples"]))
        for name, key in (("peak (5,000 kept queued)", "soak_peak"), ("soak", "soak"))
        if key in r
    ]
    phases = [(name, rows) for name, rows in phases if rows]
    if not phases:
        return []
    lines = [
        "",
        "Per interval between samples: jobs done a second, the backlog at its end, committed"
        " transactions of the database a job done (claims, completions, heartbeats and the"
        " producer's enqueues), the machine's cores busy (2 is all), its CPU time a job done"
        " (every process: the same work takes more of it on a slower machine), the cores the"
        " host took from this virtual machine (steal: it was ready to run and the host ran"
        " something else), the bench process's cores (the producer and the worker), WAL flushes"
        " a second (the cluster's), and the vacuums of `collab.jobs` in it.",
        "",
        "| phase | s | jobs/s | backlog | commits/job | cores busy | CPU µs/job | cores stolen"
        " | bench process cores | WAL flushes/s | hot-table vacuums |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, rows in phases:
        lines += [
            f"| {name} | {x['from']:.0f}-{x['to']:.0f} | {x['jobs_per_s']:,.0f} | {x['backlog']:,.0f}"
            f" | {x['commits_per_job']:.2f} | {x['cores_busy']:.2f} | {x['cpu_us_per_job']:,.0f}"
            f" | {stolen_cell(x['cores_stolen'])}"
            f" | {x['client_cores']:.2f}"
            f" | {x['wal_syncs_per_s']:,.0f} | {x['hot_vacuums']:.0f} |"
            for x in rows
        ]
    return lines


def soak_feed(
    b: Bench, db: str, seconds: float, rate: float | None, sample_every: float
) -> list[dict[str, float]]:
    """A 32-way worker drains queue bench while this thread feeds it; samples over time.

    rate None: keep 5,000 jobs queued (the producer tops the backlog up as the worker takes
    it), to find what the worker sustains while a producer shares the machine with it."""
    dsn = b.fresh(db, b.collab_template())
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("create extension if not exists pgstattuple")  # claim_index_usage
    client = Client(dsn, max_size=4, application_name="bench-worker")
    worker = Worker(client, ["bench"], concurrency=32, name="bench-soak")

    @worker.task("noop")
    def noop(ctx: Any) -> None:
        return None

    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    samples: list[dict[str, float]] = []
    try:
        with psycopg.connect(dsn, autocommit=True) as c:
            t0 = time.perf_counter()
            sent = 0
            next_sample = 0.0
            while (now := time.perf_counter() - t0) < seconds:
                due = 5000 - (sent - worker.processed) if rate is None else int(rate * now) - sent
                if due > 0:
                    k = min(due, 1000)
                    c.execute("select count(*) from api.enqueue_batch(%s::jsonb)", [batch_json(k)])
                    sent += k
                else:
                    time.sleep(0.01)
                if now >= next_sample:
                    # No scan of collab.jobs here: a count over a table of a million rows holds
                    # a snapshot for seconds, and while it does no claimed job's entry in the
                    # claim index can be killed, which is the slowdown a soak is looking for.
                    # Jobs done come from the worker, the backlog from what was sent. The
                    # claim index is read page by page (claim_index_usage): a few MB from
                    # shared buffers, milliseconds.
                    row = c.execute(
                        "select pg_total_relation_size('collab.jobs'),"
                        # Both partitioned (revisions 0009 and 0029): a partitioned table has no
                        # storage of its own, its partitions have it.
                        f" {PARTITIONS_SIZE.format('collab.job_events')},"
                        f" {PARTITIONS_SIZE.format('collab.job_history')}"
                    ).fetchone()
                    assert row is not None
                    claim_file, claim_leaf = claim_index_usage(c)
                    load = soak_load(c)
                    done_now = worker.processed
                    samples.append(
                        {
                            "t": now,
                            "done": done_now,
                            "backlog": sent - done_now,
                            "jobs_bytes": row[0],
                            "events_bytes": int(row[1]),
                            "jobs": sent,
                            "claim_index_bytes": claim_file,
                            "claim_index_leaf_bytes": claim_leaf,
                            "history_bytes": int(row[2]),
                            **load,
                        }
                    )
                    say(
                        f"  t={now:5.0f}s done={done_now:,} backlog={sent - done_now:,}"
                        f" hot table={row[0] / 1e6:.1f} MB claim index={claim_file / 1e6:.2f} MB"
                        f" ({claim_leaf / 1e6:.2f} MB of leaf pages in use)"
                        f" dead tuples={load['dead_tuples']:,} history+events="
                        f"{(int(row[2]) + row[1]) / max(done_now, 1):.0f} B/job done"
                    )
                    next_sample += sample_every
    finally:
        worker.stop()
        thread.join(30)
        client.close()
    return samples


def largest_backlog(samples: list[dict[str, float]]) -> str:
    """The largest backlog among these soak samples, when one formed, with what the host took
    from the machine in the interval that ended at it (where sampled): a backlog of live jobs
    grows the hot table and the claim index whatever the tables do, and on this shared machine
    it forms when the host takes cores from it (docs/bench.md, "The soak's backlogs"). Below
    1,000 jobs (the held snapshot's bar) it is the jobs in flight at the sample: nothing."""
    at = max(range(len(samples)), key=lambda i: samples[i]["backlog"])
    worst = samples[at]
    if worst["backlog"] < 1000:
        return ""
    out = f"; largest backlog {worst['backlog']:,} at t={worst['t']:.0f}s"
    rows = soak_intervals(samples[at - 1 : at + 1]) if at > 0 else []
    if rows and rows[0]["cores_stolen"] is not None:
        x = rows[0]
        out += (
            f" ({x['jobs_per_s']:,.0f} jobs/s done from t={x['from']:.0f}s, the host"
            f" taking {x['cores_stolen']:.2f} cores)"
        )
    return out


def claim_in_use(*samples: dict[str, float]) -> str:
    """The claim index's leaf pages in use at these soak samples, printed beside its file size
    (runs recorded before they were sampled: nothing). The verdict reads the file's size."""
    if not all("claim_index_leaf_bytes" in x for x in samples):
        return ""
    mb = " -> ".join(f"{x['claim_index_leaf_bytes'] / 1e6:.2f}" for x in samples)
    return f" ({mb} MB of leaf pages in use)"


def rate_between(
    samples: list[dict[str, float]], first: int, last: int = -1, key: str = "done"
) -> float:
    """A counter's rise a second (jobs done, unless key names another) between two samples."""
    a, z = samples[first], samples[last]
    return (z[key] - a[key]) / max(z["t"] - a["t"], 1e-9)


# The soak's feed, as a share of the first minute's peak. The soak is about bloat, so it must
# offer a load the worker keeps up with for ten minutes; a backlog of live jobs would grow the
# hot table and the claim index whatever the tables do. On this shared machine the same worker
# on the same load did 4,924 jobs/s in one 20-s interval and 8,177 three minutes later, with
# the same 1.27-1.30 cores busy and the same commits a job: the CPU time a job takes moved
# 1.66-fold with the machine's speed (docs/bench.md, "The machine's speed within one soak").
# At 80 % of a peak found in a fast minute, a slow one later is an overload: the soaks that
# fell behind in the full runs since 2026-12-02 did so by a backlog of live jobs, never by dead
# rows. Half the peak keeps up through a 2-fold slowdown. (A regression that only shows near
# the worker's capacity is the drains' to find: section 2 runs every system in the same run.)
SOAK_SHARE = 0.5


def w_soak(b: Bench, peers: dict[str, Any], seconds: int = 600, rate: float | None = None) -> None:
    # Peak: what the 32-way worker sustains while a producer on the same machine keeps 5,000
    # jobs queued (the producer's CPU is part of a soak; the drain workload has none). The soak
    # then runs at SOAK_SHARE of that, so that it measures a steady state and not an overload.
    if rate is None:
        say("7. soak: first 60 s with 5,000 jobs kept queued, to find the peak the worker sustains")
        warm = soak_feed(b, "b_soak", 60, None, 10.0)
        peak = rate_between(warm, 1)
        b.results["soak_peak"] = {"jobs_per_s": peak, "samples": warm}
        target = SOAK_SHARE * peak
        how = f"{SOAK_SHARE:.0%} of the fed peak, {peak:,.0f} jobs/s"
    else:
        target, how = rate, "given"
    say(f"7. soak: {seconds} s at {target:,.0f} jobs/s ({how})")
    samples = soak_feed(b, "b_soak", seconds, target, max(5.0, min(30.0, seconds / 20)))
    b.results["soak"] = {"target_jobs_per_s": target, "samples": samples}
    done = rate_between(samples, 0) if len(samples) > 1 else 0.0
    b.record("soak", "collab worker concurrency 32, sustained", [done], "jobs/s")


# -- 8-10. issue 18: a held snapshot, a burst on a fresh database, write amplification ---------
#
# These drive every system through its own API only (Collab through api.* and the Python
# worker), so they keep working when the tables behind the API change; the tables are only
# found at run time, in pg_stat_user_tables, to read their counters.

HOT_SCHEMAS = {
    "collab": ["collab"],
    "collab-sql": ["collab"],
    "plain": ["public"],
    "pgmq": ["pgmq"],
    "graphile": ["graphile_worker"],
    "awa": ["awa"],
    "procrastinate": ["public"],
}

COLLAB_ENQUEUE_T = (
    "select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object("
    "'queue', 'bench', 'type', 'noop', 'payload', jsonb_build_object('t', %s::float8)))"
    " from generate_series(1, %s)))"
)
PLAIN_ENQUEUE_T = (
    "insert into plain_jobs (queue, payload)"
    " select 'bench', jsonb_build_object('t', %s::float8) from generate_series(1, %s)"
)
PGMQ_ENQUEUE_T = (
    "select count(*) from pgmq.send_batch('bench',"
    " array(select jsonb_build_object('t', %s::float8) from generate_series(1, %s)))"
)
PLAIN_CLAIM = (
    "update plain_jobs set locked_at = now() where id = (select id from plain_jobs"
    " where locked_at is null order by id limit 1 for update skip locked) returning id, payload"
)
PGMQ_CLAIM = "select msg_id, message from pgmq.read('bench', 60, 1)"


def now_ms() -> float:
    return time.time() * 1000


class Driver:
    """Consumers of one system, run in this process: 4 of them, one job per claim."""

    kind = ""
    enqueue_sql = ""

    def __init__(self, consumers: int = 4) -> None:
        self.consumers = consumers
        self.waits: list[float] = []
        self.count = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def note_claim(self, payload: Any) -> None:
        t = payload.get("t") if isinstance(payload, dict) else None
        if t is not None:
            self.waits.append(now_ms() - float(t))

    def done(self) -> int:
        return self.count

    def start(self, dsn: str, work: float) -> None:
        for i in range(self.consumers):
            th = threading.Thread(target=self.loop, args=(dsn, work), name=f"bench-c{i}")
            th.daemon = True
            th.start()
            self.threads.append(th)

    def loop(self, dsn: str, work: float) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()
        for th in self.threads:
            th.join(30)


class SqlDriver(Driver):
    """The SKIP LOCKED floor and pgmq: claim one, work, finish it, each in its own transaction;
    an empty claim sleeps 5 ms (these have no wake-up channel)."""

    def __init__(self, kind: str, claim: str, finish: str, enqueue: str) -> None:
        super().__init__()
        self.kind, self.claim, self.finish, self.enqueue_sql = kind, claim, finish, enqueue

    def loop(self, dsn: str, work: float) -> None:
        with psycopg.connect(dsn, autocommit=True) as c:
            while not self.stopping.is_set():
                row = c.execute(self.claim).fetchone()
                if row is None:
                    time.sleep(0.005)
                    continue
                self.note_claim(row[1])
                if work:
                    time.sleep(work)
                c.execute(self.finish, [row[0]])
                with self.lock:
                    self.count += 1


def plain_driver() -> SqlDriver:
    return SqlDriver("plain", PLAIN_CLAIM, "delete from plain_jobs where id = %s", PLAIN_ENQUEUE_T)


def pgmq_driver() -> SqlDriver:
    return SqlDriver("pgmq", PGMQ_CLAIM, "select pgmq.archive('bench', %s::bigint)", PGMQ_ENQUEUE_T)


class CollabWorkerDriver(Driver):
    """Collab's Python worker, concurrency 4, claims of one job (max_batch=1)."""

    kind = "collab"
    enqueue_sql = COLLAB_ENQUEUE_T

    def start(self, dsn: str, work: float) -> None:
        # Six connections: four slots claiming side by side, the reporter and the heartbeat.
        self.client = Client(dsn, max_size=6, application_name="bench-worker")
        self.worker = Worker(
            self.client, ["bench"], concurrency=self.consumers, max_batch=1, name="bench-hot"
        )

        @self.worker.task("noop")
        def noop(ctx: Any) -> None:
            self.note_claim(ctx.payload)
            if work:
                time.sleep(work)

        th = threading.Thread(target=self.worker.run, daemon=True)
        th.start()
        self.threads.append(th)

    def done(self) -> int:
        return self.worker.processed

    def stop(self) -> None:
        self.worker.stop()
        for th in self.threads:
            th.join(30)
        self.client.close()


class CollabSqlDriver(Driver):
    """api.claim of one job and api.complete, each its own transaction, 4 threads."""

    kind = "collab"
    enqueue_sql = COLLAB_ENQUEUE_T

    def start(self, dsn: str, work: float) -> None:
        self.client = Client(dsn, max_size=self.consumers, application_name="bench-sql")
        self.executor = self.client.register_executor("bench-sql", ["bench"])
        super().start(dsn, work)

    def loop(self, dsn: str, work: float) -> None:
        while not self.stopping.is_set():
            jobs = self.client.claim(self.executor, ["bench"], 1)
            if not jobs:
                time.sleep(0.005)
                continue
            self.note_claim(jobs[0].payload)
            if work:
                time.sleep(work)
            self.client.complete(jobs[0].id, jobs[0].lease_token)
            with self.lock:
                self.count += 1

    def stop(self) -> None:
        super().stop()
        self.client.close()


def table_stats(c: psycopg.Connection[Any], schemas: list[str]) -> dict[str, dict[str, int]]:
    """pg_stat_user_tables of the tables the system has (found now, never named in advance)."""
    rows = c.execute(
        "select schemaname || '.' || relname, n_dead_tup, n_live_tup, autovacuum_count,"
        " n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del,"
        " (select count(*) from pg_index i where i.indrelid = s.relid)"
        " from pg_stat_user_tables s where schemaname = any(%s) order by 1",
        [schemas],
    ).fetchall()
    keys = ("dead", "live", "autovacuums", "ins", "upd", "hot_upd", "del", "indexes")
    return {r[0]: dict(zip(keys, map(int, r[1:]), strict=True)) for r in rows}


def hot_tables(stats: dict[str, dict[str, int]]) -> list[str]:
    """The tables that took writes in the run (the others stay out of the report)."""
    return [t for t, s in stats.items() if s["ins"] + s["upd"] + s["del"] > 0 or s["dead"] > 0]


def wait_summary(waits: list[float], backlog_ages: list[float]) -> dict[str, float]:
    """Waits of the jobs claimed, and with the jobs never claimed counted at their age at the
    end (a lower bound of their wait): without them a queue that stops serving looks fine."""
    every = waits + backlog_ages
    return {
        "p50_wait_ms": pct(waits, 50),
        "p99_wait_ms": pct(waits, 99),
        "p99_wait_incl_backlog_ms": pct(every, 99),
        "max_backlog_age_ms": max(backlog_ages, default=0.0),
    }


def backlog_ages(sends: list[tuple[float, int]], backlog: int, end: float) -> list[float]:
    """Ages (ms) at `end` of the last `backlog` jobs sent (claims go oldest first)."""
    ages: list[float] = []
    prev = [0] + [n for _, n in sends[:-1]]
    for (t, cum), before in zip(reversed(sends), reversed(prev), strict=True):
        take = min(cum - before, backlog - len(ages))
        ages += [(end - t) * 1000] * take
        if len(ages) >= backlog:
            break
    return ages


def fixed_rate(
    kind: str,
    dsn: str,
    seconds: float,
    per_second: float,
    hold: bool,
    work: float = 0.001,
    every: float = 0.025,
) -> dict[str, Any]:
    """Offer `per_second` jobs/s (a batch every `every` s) to 4 consumers for `seconds`;
    sample completions and each hot table's dead tuples every second. hold: a connection sits
    idle in a transaction that has an xid (begin; select txid_current()) for the whole run."""
    schemas = HOT_SCHEMAS[kind]
    driver: Driver | None = None
    proc: subprocess.Popen[str] | None = None
    if kind == "graphile":
        env = dict(os.environ, PEERS_NODE=str(PEERS_NODE))
        cmd = ["node", str(BENCH / "peer_graphile.cjs"), dsn, "rate"]
        cmd += [str(x) for x in (seconds, per_second, every * 1000, work * 1000, 4)]
    else:
        makers: dict[str, Callable[[], Driver]] = {
            "collab": CollabWorkerDriver,
            "collab-sql": CollabSqlDriver,
            "plain": plain_driver,
            "pgmq": pgmq_driver,
        }
        driver = makers[kind]()
    holder = psycopg.connect(dsn) if hold else None
    sampler = psycopg.connect(dsn, autocommit=True)
    samples: list[dict[str, Any]] = []
    sends: list[tuple[float, int]] = []
    state = {"sent": 0}
    stop = threading.Event()
    try:
        if holder is not None:
            xid = holder.execute("select txid_current()").fetchone()
            say(f"  {kind}: holding xid {xid[0] if xid else '?'} idle in transaction")
        if driver is not None:
            driver.start(dsn, work)
            time.sleep(0.5)
        t0 = time.perf_counter()

        def produce() -> None:
            assert driver is not None
            with psycopg.connect(dsn, autocommit=True) as pc:
                tick = 0
                while not stop.is_set():
                    due = t0 + tick * every
                    tick += 1
                    if due - t0 >= seconds:
                        break
                    if (wait := due - time.perf_counter()) > 0:
                        time.sleep(wait)
                    k = int(per_second * (time.perf_counter() - t0)) - state["sent"]
                    if k > 0:
                        t = time.perf_counter() - t0
                        pc.execute(driver.enqueue_sql, [now_ms(), k])
                        state["sent"] += k
                        sends.append((t, state["sent"]))

        producer = threading.Thread(target=produce, daemon=True)
        if driver is not None:
            producer.start()
        else:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
            )
        for i in range(int(seconds) + 1):
            if (wait := t0 + i - time.perf_counter()) > 0:
                time.sleep(wait)
            st = table_stats(sampler, schemas)
            samples.append(
                {
                    "t": round(time.perf_counter() - t0, 2),
                    "stolen_s": machine_cpu()[1],
                    "done": driver.done() if driver else None,
                    "sent": state["sent"] if driver else None,
                    "dead": {k: v["dead"] for k, v in st.items()},
                    "autovacuums": {k: v["autovacuums"] for k, v in st.items()},
                }
            )
        end = time.perf_counter() - t0
        final = table_stats(sampler, schemas)
        if driver is not None:
            stop.set()
            producer.join(10)
            done, sent, waits = driver.done(), state["sent"], list(driver.waits)
            per_sec = [samples[i + 1]["done"] - samples[i]["done"] for i in range(len(samples) - 1)]
        else:
            assert proc is not None
            out, err = proc.communicate(timeout=seconds + 120)
            if proc.returncode != 0:
                raise RuntimeError("graphile: " + ((err or out).strip().splitlines() or ["?"])[-1])
            r = json.loads(out.strip().splitlines()[-1])
            done, sent, waits = int(r["done"]), int(r["sent"]), list(r["waits_ms"])
            sends = [(float(t), int(n)) for t, n in r["sends"]]
            per_sec = list(r["per_second"])
            end = float(r["seconds"])
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()
        if driver is not None:
            stop.set()
            driver.stop()
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        sampler.close()
    backlog = max(0, sent - done)
    tables = hot_tables(final)
    for s in samples:
        s["dead"] = {k: v for k, v in s["dead"].items() if k in tables}
        s["autovacuums"] = {k: v for k, v in s["autovacuums"].items() if k in tables}
    first_vacuum = next(
        (
            s["t"]
            for s in samples
            if any(
                s["autovacuums"][k] > samples[0]["autovacuums"].get(k, 0) for k in s["autovacuums"]
            )
        ),
        None,
    )
    return {
        "seconds": round(end, 1),
        "offered_per_s": per_second,
        "sent": sent,
        "done": done,
        "completed_over_offered": done / max(sent, 1),
        "backlog": backlog,
        **wait_summary(waits, backlog_ages(sends, backlog, end)),
        "per_second": per_sec,
        "dead_tuples_end": {k: final[k]["dead"] for k in tables},
        "autovacuums_in_run": {
            k: final[k]["autovacuums"] - samples[0]["autovacuums"].get(k, 0) for k in tables
        },
        "first_autovacuum_s": first_vacuum,
        **stolen_cores(samples),
        "samples": samples,
    }


def stolen_cores(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The cores the host took from this virtual machine (steal, machine_cpu) between the
    fixed-rate run's samples, one a second: over the run, and in each second. The systems run
    one after another, so a host that takes cores during one system's run and not another's
    changes their comparison; this says when it did."""
    if len(samples) < 2 or any("stolen_s" not in x for x in samples):
        return {}
    per = [rate_between([a, z], 0, key="stolen_s") for a, z in itertools.pairwise(samples)]
    run = rate_between(samples, 0, key="stolen_s")
    return {"cores_stolen": round(run, 3), "stolen_per_second": [round(x, 3) for x in per]}


def stolen_cell(cores: float | None) -> str:
    """A table cell of cores the host took; '-' for a run recorded before they were sampled."""
    return "-" if cores is None else f"{cores:.2f}"


def stolen_over_run(r: dict[str, Any]) -> str:
    """What the host took over a fixed-rate run (stolen_cores), where sampled."""
    if not r.get("stolen_per_second"):
        return ""
    return f"; the host took {r['cores_stolen']:.2f} cores over the run"


def stolen_in_slowest(r: dict[str, Any], per: list[float]) -> str:
    """What the host took in a fixed-rate run's slowest second of completions (per, a count a
    second) and over the run; the run's figure alone when that second was not sampled."""
    steal = r.get("stolen_per_second") or []
    slowest = min(range(len(per)), key=per.__getitem__, default=None)
    if slowest is None or slowest >= len(steal):
        return stolen_over_run(r)
    return (
        f"; the host took {steal[slowest]:.2f} cores in the slowest second,"
        f" {r['cores_stolen']:.2f} over the run"
    )


HOT_KINDS = ("collab", "collab-sql", "plain", "pgmq", "graphile")


def hot_systems(b: Bench, peers: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, kind, template) of the systems the fixed-rate workloads can drive."""
    out = [
        ("collab worker, 4 slots, claims of 1", "collab", b.collab_template()),
        ("collab api.claim+api.complete, 4 consumers", "collab-sql", b.collab_template()),
        ("baseline SKIP LOCKED, 4 consumers", "plain", b.template("tpl_plain", build_plain)),
    ]
    if "pgmq" in peers:
        out.append(("pgmq read+archive, 4 consumers", "pgmq", b.template("tpl_pgmq", build_pgmq)))
    if "graphile-worker" in peers:
        out.append(("graphile-worker -j 4", "graphile", b.template("tpl_graphile", build_graphile)))
    return [s for s in out if b.hot_kinds is None or s[1] in b.hot_kinds]


def add_ratios(b: Bench, workload: str, keys: tuple[str, ...]) -> None:
    """Collab's figures over each peer's, measured in this run, into Collab's entries."""
    rows = b.results["workloads"].get(workload, {})
    for name, e in rows.items():
        if not name.startswith("collab"):
            continue
        e["ratios"] = {
            peer: {k: e[k] / p[k] if p.get(k) else None for k in keys}
            for peer, p in rows.items()
            if not peer.startswith("collab")
        }


def w_held(b: Bench, peers: dict[str, Any]) -> None:
    secs, offered = b.sizes.held_seconds, 300
    say(
        f"8. held snapshot: begin; select txid_current(); held idle {secs} s while {offered} jobs/s"
        " are offered to 4 consumers (1 ms of work each)"
    )
    for label, kind, tpl in hot_systems(b, peers):
        try:
            r = fixed_rate(kind, b.fresh("b_held", tpl), secs, offered, hold=True)
        except Exception as exc:
            b.results["errors"][f"held {label}"] = f"{type(exc).__name__}: {exc}"
            say(f"  error in held {label}: {type(exc).__name__}: {exc}")
            continue
        b.record("held", label, [r["completed_over_offered"]], "x offered", kind=kind, **r)
        dead = ", ".join(f"{t} {n:,}" for t, n in r["dead_tuples_end"].items() if n)
        say(
            f"    backlog {r['backlog']:,}, p99 wait {r['p99_wait_ms']:,.0f} ms"
            f" ({r['p99_wait_incl_backlog_ms']:,.0f} ms counting the backlog),"
            f" dead tuples: {dead or 'none'}"
        )
    add_ratios(b, "held", ("completed_over_offered", "backlog", "p99_wait_ms"))


def w_burst(b: Bench, peers: dict[str, Any]) -> None:
    secs, offered = b.sizes.burst_seconds, 800
    say(
        f"9. burst on a fresh database: {offered} jobs/s (a batch every 25 ms) for {secs} s to 4"
        " consumers claiming one job at a time, 1 ms of work; autovacuum as configured"
    )
    for label, kind, tpl in hot_systems(b, peers):
        try:
            r = fixed_rate(kind, b.fresh("b_burst", tpl), secs, offered, hold=False)
        except Exception as exc:
            b.results["errors"][f"burst {label}"] = f"{type(exc).__name__}: {exc}"
            say(f"  error in burst {label}: {type(exc).__name__}: {exc}")
            continue
        per = [float(x) for x in r["per_second"][: int(secs)]] or [0.0]
        steady = statistics.median(per)
        r.update(
            first_second=per[0],
            steady=steady,
            min_second=min(per),
            min_over_steady=min(per) / steady if steady else 0.0,
            min_over_offered=min(per) / offered,
            last_quarter_over_offered=statistics.mean(per[-max(1, len(per) // 4) :]) / offered,
            dead_tuples_max=max((sum(s["dead"].values()) for s in r["samples"]), default=0),
        )
        b.record("burst", label, [r["min_over_offered"]], "x offered", kind=kind, **r)
        say(
            f"    per second: first {per[0]:,.0f}, min {min(per):,.0f}, median {steady:,.0f},"
            f" last quarter {r['last_quarter_over_offered'] * offered:,.0f};"
            f" dead tuples up to {r['dead_tuples_max']:,}; first autovacuum at"
            f" {r['first_autovacuum_s']} s"
        )
    add_ratios(b, "burst", ("min_over_offered", "min_over_steady", "first_second"))


WAL_SQL = r"""
with r as (
  select resource_manager as rm, split_part(record_type, '+', 1) as rt, record_length as len,
         fpi_length as fpi, description as d, xid,
         regexp_match(block_ref, 'rel \d+/(\d+)/(\d+)') as ref
    from pg_get_wal_records_info(%s::pg_lsn, %s::pg_lsn)),
mine as (select * from r where ref[1] = %s),
x as (select distinct xid from mine where xid <> '0'::xid),
chosen as (
  select * from mine
  union all
  select * from r where ref is null and xid <> '0'::xid and xid in (select xid from x))
select rm, rt, coalesce(ref[2], ''), count(*)::bigint, sum(len)::bigint, sum(fpi)::bigint,
       sum(case when rt = 'MULTI_INSERT'
                  then coalesce((regexp_match(d, '^(\d+) tuples'))[1]::int, 1)
                when rt in ('SPLIT_L', 'SPLIT_R') and d !~ 'level 0' then 0
                else 1 end)::bigint
  from chosen group by 1, 2, 3
"""
HEAP_VERSION_RECORDS = {("Heap", "INSERT"), ("Heap", "UPDATE"), ("Heap", "HOT_UPDATE")}
HEAP_VERSION_RECORDS |= {("Heap2", "MULTI_INSERT")}
INDEX_ENTRY_RECORDS = {
    ("Btree", "INSERT_LEAF"),
    ("Btree", "INSERT_POST"),
    ("Btree", "SPLIT_L"),  # a leaf split carries the new entry (upper levels count 0 above)
    ("Btree", "SPLIT_R"),
    ("BRIN", "INSERT"),
    ("BRIN", "UPDATE"),
    ("BRIN", "SAMEPAGE_UPDATE"),
    ("Gin", "INSERT"),
    ("Hash", "INSERT"),
    ("Gist", "PAGE_UPDATE"),
    ("SPGist", "ADD_LEAF"),
}


def wal_between(b: Bench, db: str, lsn0: str, lsn1: str, jobs: int) -> dict[str, Any]:
    """WAL records between two LSNs that touch database `db` (and those transactions' commit
    records), read with pg_walinspect: bytes, heap row versions and index entries per job."""
    with b.connect("postgres") as c:
        c.execute("create extension if not exists pg_walinspect")
        oid = c.execute("select oid from pg_database where datname = %s", [db]).fetchone()
        assert oid is not None
        rows = c.execute(WAL_SQL, [lsn0, lsn1, str(oid[0])]).fetchall()
        lsn_bytes = c.execute("select %s::pg_lsn - %s::pg_lsn", [lsn1, lsn0]).fetchone()
    names: dict[str, str] = {}
    with b.connect(db) as c:
        for fn in {r[2] for r in rows if r[2]}:
            row = c.execute("select pg_filenode_relation(0, %s::oid)::regclass::text", [fn])
            got = row.fetchone()
            names[fn] = got[0] if got and got[0] else f"filenode {fn}"
    per = float(max(jobs, 1))
    by_type: dict[str, dict[str, float]] = {}
    by_rel: dict[str, dict[str, float]] = {}
    total = fpi = count = heap = index = 0
    for rm, rt, fn, n, size, fpi_size, units in rows:
        total, fpi, count = total + size, fpi + fpi_size, count + n
        key = f"{rm}/{rt}"
        t = by_type.setdefault(key, {"records": 0.0, "bytes": 0.0})
        t["records"] += n / per
        t["bytes"] += size / per
        rel = by_rel.setdefault(
            names.get(fn, "(no relation)"),
            {"bytes": 0.0, "heap_versions": 0.0, "index_entries": 0.0},
        )
        rel["bytes"] += size / per
        if (rm, rt) in HEAP_VERSION_RECORDS:
            heap += units
            rel["heap_versions"] += units / per
        if (rm, rt) in INDEX_ENTRY_RECORDS:
            index += units
            rel["index_entries"] += units / per
    return {
        "jobs": jobs,
        "wal_bytes_per_job": total / per,
        "wal_lsn_bytes_per_job": float(lsn_bytes[0] if lsn_bytes else 0) / per,
        "fpi_bytes_per_job": fpi / per,
        "records_per_job": count / per,
        "heap_versions_per_job": heap / per,
        "index_entries_per_job": index / per,
        "by_record_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1]["bytes"])),
        "by_relation": dict(sorted(by_rel.items(), key=lambda kv: -kv[1]["bytes"])),
    }


def counter_estimate(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], jobs: int
) -> dict[str, Any]:
    """The same from pg_stat_user_tables: row versions = inserts + updates; index entries, an
    upper bound, = (inserts + non-HOT updates) x the table's index count (a partial index
    whose predicate the row does not meet takes no entry)."""
    tables: dict[str, dict[str, float]] = {}
    for t, s in after.items():
        z = before.get(t, dict.fromkeys(s, 0))
        d = {k: s[k] - z.get(k, 0) for k in ("ins", "upd", "hot_upd", "del")}
        if not any(d.values()):
            continue
        tables[t] = {
            **{k: v / jobs for k, v in d.items()},
            "indexes": s["indexes"],
            "index_entries_upper": (d["ins"] + d["upd"] - d["hot_upd"]) * s["indexes"] / jobs,
        }
    return {
        "heap_versions_per_job": sum(v["ins"] + v["upd"] for v in tables.values()),
        "index_entries_upper_per_job": sum(v["index_entries_upper"] for v in tables.values()),
        "tables": tables,
    }


Runner = Callable[[str, Callable[[], None]], object]


def wal_one(b: Bench, kind: str, tpl: str, jobs: int, run: Runner) -> dict[str, Any]:
    """Checkpoint, then enqueue and drain `jobs` through `run`, and read what was written."""
    db = "b_wal"
    dsn = b.fresh(db, tpl)
    schemas = HOT_SCHEMAS[kind]
    with b.connect(db) as c:
        c.execute("checkpoint")
        before = table_stats(c, schemas)
        lsn0 = str(c.execute("select pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]
    marks: list[str] = []

    def mark() -> None:
        with b.connect(db) as c:
            marks.append(str(c.execute("select pg_current_wal_lsn()").fetchone()[0]))  # type: ignore[index]

    t0 = time.perf_counter()
    run(dsn, mark)  # a runner that can calls mark() between enqueue and processing
    seconds = time.perf_counter() - t0
    time.sleep(0.7)  # let the finished backends' table counters reach pg_stat
    with b.connect(db) as c:
        c.execute("select pg_stat_clear_snapshot()")
        after = table_stats(c, schemas)
        lsn2 = str(c.execute("select pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]
    out = wal_between(b, db, lsn0, lsn2, jobs)
    out["seconds"] = round(seconds, 2)
    if marks:
        enq = wal_between(b, db, lsn0, marks[0], jobs)
        out["enqueue_wal_bytes_per_job"] = enq["wal_bytes_per_job"]
        out["enqueue_index_entries_per_job"] = enq["index_entries_per_job"]
        out["process_wal_bytes_per_job"] = out["wal_bytes_per_job"] - enq["wal_bytes_per_job"]
        out["process_index_entries_per_job"] = (
            out["index_entries_per_job"] - enq["index_entries_per_job"]
        )
    out["counters"] = counter_estimate(before, after, jobs)
    return out


def drive_python(driver: Driver, jobs: int) -> Runner:
    """Enqueue `jobs` (batches of 1,000), mark, then run the driver's 4 consumers to the end."""

    def run(dsn: str, mark: Callable[[], None]) -> None:
        with psycopg.connect(dsn, autocommit=True) as c:
            for start in range(0, jobs, 1000):
                c.execute(driver.enqueue_sql, [now_ms(), min(1000, jobs - start)])
        mark()
        driver.start(dsn, 0.0)
        deadline = time.time() + 600
        try:
            while driver.done() < jobs and time.time() < deadline:
                time.sleep(0.02)
        finally:
            driver.stop()
        if driver.done() < jobs:
            raise RuntimeError(f"{driver.done()} of {jobs} jobs done")

    return run


def w_wal(b: Bench, peers: dict[str, Any]) -> None:
    n = b.sizes.wal_jobs
    say(
        f"10. write amplification: enqueue (batches of 1,000) + claim + complete of {n:,} jobs,"
        " 4 consumers; WAL records of the database (pg_walinspect) per job"
    )
    systems: list[tuple[str, str, str, int, Runner]] = [
        (
            "collab worker, 4 slots, claims of 1",
            "collab",
            b.collab_template(),
            n,
            drive_python(CollabWorkerDriver(), n),
        ),
        (
            "collab api.claim+api.complete, 1 per tx",
            "collab",
            b.collab_template(),
            n,
            drive_python(CollabSqlDriver(), n),
        ),
        (
            "baseline SKIP LOCKED claim tx + delete tx",
            "plain",
            b.template("tpl_plain", build_plain),
            n,
            drive_python(plain_driver(), n),
        ),
    ]
    if "pgmq" in peers:
        systems.append(
            (
                "pgmq read+archive, 1 per read",
                "pgmq",
                b.template("tpl_pgmq", build_pgmq),
                n,
                drive_python(pgmq_driver(), n),
            )
        )
    if "graphile-worker" in peers:
        systems.append(
            (
                "graphile-worker -j 4 (addJobs, then drain)",
                "graphile",
                b.template("tpl_graphile", build_graphile),
                n,
                lambda dsn, mark: graphile(dsn, "drain", n, 4),
            )
        )
    if "awa-pg" in peers:
        na = min(n, b.sizes.drain_awa)
        systems.append(
            (
                f"awa-pg 4 workers (insert_many_copy, then drain; {na:,} jobs)",
                "awa",
                b.template("tpl_awa", build_awa),
                na,
                lambda dsn, mark: awa(dsn, "drain", na, 4),
            )
        )
    if "procrastinate" in peers:
        ns = min(n, b.sizes.wal_slow)
        systems.append(
            (
                f"procrastinate concurrency 4 (batch_defer, then drain; {ns:,} jobs)",
                "procrastinate",
                b.template("tpl_procrastinate", build_procrastinate),
                ns,
                lambda dsn, mark: procrastinate(dsn, "drain", ns, 4),
            )
        )
    for label, kind, tpl, jobs, run in systems:
        try:
            r = wal_one(b, kind, tpl, jobs, run)
        except Exception as exc:
            b.results["errors"][f"wal {label}"] = f"{type(exc).__name__}: {exc}"
            say(f"  error in wal {label}: {type(exc).__name__}: {exc}")
            continue
        b.record("wal", label, [r["wal_bytes_per_job"]], "B/job", kind=kind, **r)
        c = r["counters"]
        say(
            f"    {r['records_per_job']:.1f} WAL records/job, {r['heap_versions_per_job']:.2f} heap"
            f" row versions/job, {r['index_entries_per_job']:.2f} index entries/job"
            f" (counters: {c['heap_versions_per_job']:.2f} versions,"
            f" <= {c['index_entries_upper_per_job']:.2f} entries); FPI"
            f" {r['fpi_bytes_per_job']:.0f} B/job; cluster-wide {r['wal_lsn_bytes_per_job']:.0f} B/job"
        )
    add_ratios(b, "wal", ("wal_bytes_per_job", "index_entries_per_job", "heap_versions_per_job"))


# -- profile ------------------------------------------------------------------------------------


def profile(b: Bench) -> None:
    """pg_stat_statements with nested statements, over one short claim+complete run of each kind."""
    say("profile: pg_stat_statements (track = all) over claim+complete, 1 and 10 per tx")
    # 2 s at 1 per tx and 2 s at 10 per tx: 20,000 jobs ran dry at 9,000 jobs/s (fa4696e's run).
    ex = collab_pgbench_db(b, "b_profile", 40000)
    with b.connect("postgres") as c:
        c.execute("select pg_stat_statements_reset()")
    # track_planning: a statement inside a function planned at every call (plans = calls) is
    # how api.complete_batch lost half its time to the planner (docs/architecture.md).
    b.pg_options = {
        "PGOPTIONS": "-c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on"
    }
    try:
        pgbench(b, "b_profile", "collab1", 2, {"exec": ex})
        pgbench(b, "b_profile", "collab10", 2, {"exec": ex})
    finally:
        b.pg_options = {}
    with b.connect("postgres") as c:
        rows = c.execute(
            "select s.calls, s.total_exec_time, s.mean_exec_time, s.rows, s.toplevel,"
            " regexp_replace(s.query, '\\s+', ' ', 'g'), s.plans, s.mean_plan_time"
            " from pg_stat_statements s join pg_database d on d.oid = s.dbid"
            " where d.datname = 'b_profile' order by s.total_exec_time desc limit 15"
        ).fetchall()
    top = [
        {
            "calls": r[0],
            "total_ms": round(r[1], 1),
            "mean_ms": round(r[2], 4),
            "rows": r[3],
            "toplevel": r[4],
            "query": r[5][:200],
            "plans": r[6],
            "mean_plan_ms": round(r[7], 4),
        }
        for r in rows
    ]
    b.results["profile"] = top
    for r in top[:10]:
        say(
            f"  {r['total_ms']:9.1f} ms {r['calls']:7} calls {r['plans']:7} plans"
            f"  {r['query'][:100]}"
        )
    # pgbench sends its own statements unprepared; inside functions plans should be few.
    replanned = [
        r for r in top if not r["toplevel"] and r["calls"] > 100 and r["plans"] > r["calls"] / 2
    ]
    for r in replanned:
        say(f"  planned at every call ({r['mean_plan_ms']:.3f} ms a plan): {r['query'][:90]}")


# -- report -------------------------------------------------------------------------------------


def fig(b: Bench, workload: str, system: str) -> float | None:
    entry = b.results["workloads"].get(workload, {}).get(system)
    return None if entry is None else float(entry["median"])


def best_worker(b: Bench, workload: str, row: str, lower: bool = False) -> tuple[float | None, str]:
    """The better figure of Collab's two workers on a row (``row`` with ``{w}`` for the
    worker's name): the thread worker (collab.Worker, a sync handler) and the asyncio worker
    (collab.AsyncWorker, an async handler, as the peers' handlers are); and a note naming
    both, for the target's line."""
    figs = [
        (v, label)
        for label, w in (("AsyncWorker", "collab async worker"), ("Worker", "collab worker"))
        if (v := fig(b, workload, row.format(w=w))) is not None
    ]
    if not figs:
        return None, ""
    best = (min if lower else max)(figs, key=lambda f: f[0])
    shown = ", ".join(f"{label} {v:,.1f}" for v, label in figs)
    return best[0], f"; Collab's workers: {shown} (the {best[1]}'s shown)"


def cpu_note(b: Bench) -> str:
    """The 4-way rows' CPU a job (median_cpu), for the target's line."""
    parts = []
    for label, system in (
        ("Collab AsyncWorker", "collab async worker concurrency 4"),
        ("Collab Worker", "collab worker concurrency 4"),
        ("graphile-worker", "graphile-worker -j 4"),
        ("Collab's api with no worker", COLLAB_API_DRAIN4_ROW),
        ("bare writes", CONTRACT_DRAIN4_ROW),
    ):
        cpu = b.results["workloads"].get("drain", {}).get(system, {}).get("cpu") or []
        if cpu:
            m = median_cpu(cpu)
            parts.append(
                f"{label} {m['machine_us_per_job']:,.0f} µs ({m['client_us_per_job']:,.0f} in its "
                f"client), {m['cores_busy']:.2f} cores busy ({m['cores_stolen']:.2f} stolen)"
            )
    return f"; CPU a job: {'; '.join(parts)}" if parts else ""


def waits_note(b: Bench, *rows: tuple[str, str]) -> str:
    """The SQL rows' share of their backends' time on the commit flush and on CPU (w_sql's
    waits), for a cycle target's line: rows are (name shown, system)."""
    parts = []
    for name, system in rows:
        row = b.results["workloads"].get("sql", {}).get(system, {})
        w, f = row.get("waits"), row.get("flush")
        if w:
            part = f"{name} {w['commit flush']:.0%} on the commit flush, {w['cpu']:.0%} cpu"
            if f:
                part += f" (the WAL syncing {f['syncing']:.0%} of the time, {f['sync_ms']:.2f} ms a sync)"
            parts.append(part)
    return f"; backends' time: {'; '.join(parts)}" if parts else ""


def targets(b: Bench) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for PRODUCT.md section 10."""
    out: list[tuple[str, str, str]] = []

    def ratio(
        name: str,
        a: float | None,
        c: float | None,
        need: float,
        lower: bool = False,
        bare: float | None = None,
        beside: tuple[tuple[str, float | None], ...] = (),
        note: str = "",
    ) -> None:
        """``bare``: what the contract's bare writes (build_contract) reach against the same
        reference c, the most any implementation of the contract could show on this row;
        ``beside``: (label, figure) of other rows over the same reference c (those measured);
        ``note``: more figures for the row."""
        if a is None or c is None or c == 0:
            out.append((name, "not measured", "not measured"))
            return
        r = a / c
        ok = r <= need if lower else r >= need
        measured = f"{a:,.1f} vs {c:,.1f} = {r:.2f}x"
        if bare is not None:
            measured += f" (contract's bare writes: {bare / c:.2f}x)"
        measured += "".join(f"; {label}: {v / c:.2f}x" for label, v in beside if v is not None)
        measured += note
        out.append((name, measured, "holds" if ok else "does not hold"))

    for c in (4, 32):
        peers = [fig(b, "drain", f"graphile-worker -j {c}")]
        peers += [
            e["median"]
            for s, e in b.results["workloads"].get("drain", {}).items()
            if s.startswith(f"awa-pg {c} ")
        ]
        best = max((p for p in peers if p is not None), default=None)
        ours, workers = best_worker(b, "drain", "{w} concurrency " + str(c))
        ratio(
            f"end to end {c}-way >= 1.5x best peer (graphile-worker, awa-pg)",
            ours,
            best,
            1.5,
            bare=fig(b, "drain", CONTRACT_DRAIN4_ROW) if c == 4 else None,
            beside=(
                (
                    "Collab's api with no worker",
                    fig(b, "drain", COLLAB_API_DRAIN4_ROW) if c == 4 else None,
                ),
            ),
            note=workers + (cpu_note(b) if c == 4 else ""),
        )
    ratio(
        "high-throughput setting >= graphile-worker local queue",
        fig(b, "drain", "collab high-throughput (concurrency 500, batch claims of 500)"),
        fig(b, "drain", "graphile-worker -j 32, local queue of 500"),
        1.0,
    )

    collab_row, floor_row, pgmq_row = (
        "collab api.claim+api.complete, {k} per tx",
        "baseline SKIP LOCKED claim tx + delete tx, {k} per tx",
        "pgmq read+archive, {k} per read",
    )
    for name, k, reference, need in (
        ("claim+complete 1/tx >= 0.8x SKIP LOCKED cycle", 1, floor_row, 0.8),
        ("claim+complete 1/tx >= pgmq read+archive", 1, pgmq_row, 1.0),
        ("claim+complete 10/tx >= pgmq 10 per read", 10, pgmq_row, 1.0),
    ):
        ratio(
            name,
            fig(b, "sql", collab_row.format(k=k)),
            fig(b, "sql", reference.format(k=k)),
            need,
            bare=fig(b, "sql", CONTRACT_ROW.format(k=k)),
            # RULES_FREE_ROW is a 1/tx row
            beside=(
                ("without the api's rules", fig(b, "sql", RULES_FREE_ROW) if k == 1 else None),
            ),
            note=waits_note(
                b,
                ("Collab", collab_row.format(k=k)),
                ("the reference", reference.format(k=k)),
                ("the bare writes", CONTRACT_ROW.format(k=k)),
            ),
        )
    ratio(
        "batch enqueue >= graphile-worker addJobs",
        fig(b, "enqueue", "collab batch (api.enqueue_batch)"),
        fig(b, "enqueue", "graphile-worker batch (addJobs)"),
        1.0,
        bare=fig(b, "enqueue", CONTRACT_ENQUEUE_ROW),
    )
    for p in ("p50", "p99"):
        ours, workers = best_worker(b, "wake", "{w} " + p, lower=True)
        ratio(
            f"wake-up {p} <= graphile-worker",
            ours,
            fig(b, "wake", f"graphile-worker {p}"),
            1.0,
            lower=True,
            bare=fig(b, "wake", f"{CONTRACT_WAKE_ROW} {p}"),
            note=workers,
        )
    ratio(
        "overhead: events on >= 0.75x off",
        fig(b, "overhead", "collab, events on"),
        fig(b, "overhead", "collab, events off"),
        0.75,
    )
    growth = b.results["workloads"].get("growth", {})
    if len(growth) >= 2:
        first, last = next(iter(growth.values())), list(growth.values())[-1]
        ratio(
            f"growth: claim at {last['finished']:,} finished >= 0.8x at {first['finished']:,}",
            last["median"],
            first["median"],
            0.8,
        )
    out += hot_targets(b.results["workloads"])
    out.append(("no unbounded bloat in a 10-minute soak", "run with --soak", "not measured"))
    if "soak" in b.results and len(b.results["soak"].get("samples", [])) >= 3:
        # Finished jobs and their events leave the hot table (revision 0009), so bloat is:
        # the hot table (queued and running jobs) or its claim index growing beyond 2x of
        # their size a third into the run (1 MB at least), or the history and the events
        # growing faster than the jobs done (bytes per job beyond 1.2x). A backlog that forms
        # and stays is printed beside the verdict (the target is bloat). Runs recorded before
        # the history was sampled are judged as they were then: bytes of collab.jobs per job.
        s = b.results["soak"]["samples"]
        third, last = s[len(s) // 3], s[-1]
        claim_mb = [x["claim_index_bytes"] / 1e6 for x in (third, last)]
        if "history_bytes" in last:
            hot_mb = [x["jobs_bytes"] / 1e6 for x in (third, last)]
            per_job = [
                (x["history_bytes"] + x["events_bytes"]) / max(x["done"], 1) for x in (third, last)
            ]
            bounded = (
                hot_mb[1] <= 2 * max(hot_mb[0], 1.0)
                and claim_mb[1] <= 2 * max(claim_mb[0], 1.0)
                and per_job[1] <= 1.2 * per_job[0]
            )
            what = "hot table and claim index within 2x, history and events per job within 1.2x"
            measured = (
                f"fed {b.results['soak']['target_jobs_per_s']:,.0f} jobs/s; hot table"
                f" {hot_mb[0]:.1f} -> {hot_mb[1]:.1f} MB; claim index {claim_mb[0]:.2f} ->"
                f" {claim_mb[1]:.2f} MB{claim_in_use(third, last)}; history and events"
                f" {per_job[0]:.0f} -> {per_job[1]:.0f} B/job; backlog {last['backlog']:,}"
                f"{largest_backlog(s[len(s) // 3 :])}"
            )
        else:
            per_job = [x["jobs_bytes"] / max(x["jobs"], 1) for x in (third, last)]
            bounded = per_job[1] <= 1.2 * per_job[0] and claim_mb[1] <= 2 * max(claim_mb[0], 1.0)
            what = "bytes/job within 1.2x, claim index within 2x"
            measured = (
                f"fed {b.results['soak']['target_jobs_per_s']:,.0f} jobs/s;"
                f" {per_job[0]:.0f} -> {per_job[1]:.0f} B/job; claim index {claim_mb[0]:.2f} ->"
                f" {claim_mb[1]:.2f} MB; backlog {last['backlog']:,}"
            )
        out[-1] = (
            f"no unbounded bloat in a 10-minute soak ({what}"
            f" from t={third['t']:.0f}s to t={last['t']:.0f}s)",
            measured,
            "holds" if bounded else "does not hold",
        )
    return out


def reference_for(workload: str, system: str, b: Bench) -> str:
    """The ratio column: a Collab figure against the best peer and the baseline of its kind."""
    rows = b.results["workloads"][workload]
    me = rows[system]["median"]
    if workload == "overhead":
        off_name = "collab, events off"
        off = rows.get(off_name)
        return f"{me / off['median']:.2f}x of events off" if off and system != off_name else ""
    if workload == "growth":
        first = next(iter(rows.values()))["median"]
        return f"{me / first:.2f}x of the smallest table"
    if not system.startswith("collab"):
        return ""
    if workload == "wake":
        p = system.split()[-1]
        others = {
            s: r["median"]
            for s, r in rows.items()
            if not s.startswith(("collab", CONTRACT_PREFIX)) and s.endswith(p)
        }
        if not others:
            return ""
        best = min(others, key=others.__getitem__)
        return f"{me / others[best]:.2f}x of {best} (lower is better)"

    def same_kind(s: str) -> bool:
        if workload == "enqueue":
            return (" one " in f" {s} ") == (" one " in f" {system} ")
        if workload == "sql":
            return ("10 per" in s) == ("10 per" in system)
        if workload == "drain":
            if "high-throughput" in system:
                return not s.startswith(CONTRACT_PREFIX)
            c = "32" if "32" in system else "4"
            return "local queue" not in s and bool(re.search(rf"(-j|concurrency|awa-pg) {c}\b", s))
        return False

    peers = {
        s: r["median"]
        for s, r in rows.items()
        if same_kind(s) and not s.startswith(("collab", "baseline", CONTRACT_PREFIX))
    }
    base = [r["median"] for s, r in rows.items() if same_kind(s) and s.startswith("baseline")]
    bare = [r["median"] for s, r in rows.items() if same_kind(s) and s.startswith(CONTRACT_PREFIX)]
    parts = []
    if peers:
        best = max(peers, key=peers.__getitem__)
        parts.append(f"{me / peers[best]:.2f}x of best peer ({best})")
    if base:
        parts.append(f"{me / base[0]:.2f}x of baseline")
    if bare:
        parts.append(f"{me / bare[0]:.2f}x of the contract's bare writes")
    return "; ".join(parts)


def latest_full_run() -> tuple[str, dict[str, Any]] | None:
    for path in sorted(RESULTS.glob("*.json"), reverse=True):
        with contextlib.suppress(OSError, ValueError):
            saved = json.loads(path.read_text())
            if saved.get("mode") == "full" and saved.get("targets"):
                return path.name, saved
    return None


HOT_WORKLOADS = ("held", "burst", "wal")
COLLAB_WORKER = "collab worker, 4 slots, claims of 1"


def hot_targets(w: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Issue 18's held-snapshot and burst rows, when this run measured them."""
    out: list[tuple[str, str, str]] = []
    if (h := w.get("held", {}).get(COLLAB_WORKER)) is not None:
        ok = h["completed_over_offered"] >= 0.95 and h["backlog"] < 1000
        out.append(
            (
                f"held snapshot ({h['seconds']:.0f} s idle in transaction, {h['offered_per_s']:.0f}"
                " jobs/s offered to 4 workers): completions >= 0.95x offered, backlog < 1,000",
                f"{h['completed_over_offered']:.2f}x offered, backlog {h['backlog']:,},"
                f" p99 wait {h['p99_wait_ms'] / 1000:.1f} s{stolen_over_run(h)}",
                "holds" if ok else "does not hold",
            )
        )
    if (u := w.get("burst", {}).get(COLLAB_WORKER)) is not None:
        out.append(
            (
                f"burst on a fresh database ({u['offered_per_s']:.0f} jobs/s, 4 consumers,"
                f" {u['seconds']:.0f} s): every second >= 0.8x the steady (offered) rate",
                f"first second {u['first_second']:,.0f}/s, slowest {u['min_second']:,.0f}/s ="
                f" {u['min_over_offered']:.2f}x offered ({u['min_over_steady']:.2f}x the run's"
                f" median {u['steady']:,.0f}/s)"
                f"{stolen_in_slowest(u, u['per_second'][: int(u['seconds'])])}",
                "holds" if u["min_over_offered"] >= 0.8 else "does not hold",
            )
        )
    return out


def latest_with(workload: str) -> tuple[str, dict[str, Any]] | None:
    for path in sorted(RESULTS.glob("*.json"), reverse=True):
        with contextlib.suppress(OSError, ValueError):
            saved = json.loads(path.read_text())
            if saved.get("workloads", {}).get(workload):
                return path.name, saved
    return None


def ratio_text(e: dict[str, Any], key: str) -> str:
    return ", ".join(
        f"{v[key]:.2f}x of {peer.split(',')[0].split(' (')[0]}"
        for peer, v in e.get("ratios", {}).items()
        if v.get(key) is not None
    )


def hot_sections(r: dict[str, Any]) -> list[str]:
    """Sections 9-11 (issue 18), from this run or else from the latest run that had them."""
    lines: list[str] = []
    for w in HOT_WORKLOADS:
        rows = r["workloads"].get(w)
        note = ""
        if not rows:
            found = latest_with(w)
            if found is None:
                continue
            name, saved = found
            rows = saved["workloads"][w]
            note = (
                f"Figures from `bench/results/{name}` ({saved['started_at']} UTC, mode"
                f" `{saved['mode']}`, `{saved.get('command', 'bench/run.py')}`, load average"
                f" {saved['machine']['load_average_at_start'][0]:.1f} at start,"
                f" {saved['machine'].get('load_average_at_end', [0])[0]:.1f} at end). "
            )
        lines += ["", *HOT_TEXT[w](rows, note)]
    return lines


def held_text(rows: dict[str, Any], note: str) -> list[str]:
    any_row = next(iter(rows.values()))
    out = [
        "## 9. Held snapshot: a transaction with an xid left idle while jobs flow (issue 18)",
        "",
        note + "A connection runs `begin; select txid_current();` and stays idle in that "
        f"transaction for the whole run ({any_row['seconds']:.0f} s) while one producer offers "
        f"{any_row['offered_per_s']:.0f} jobs/s (a batch every 25 ms, each system's batch API) "
        "to 4 consumers that claim one job at a time and work 1 ms on it, each system in a "
        "fresh database. Collab runs its Python worker (`concurrency=4, max_batch=1`, a pool of 6 "
        "connections: claims side by side for its free slots, completions reported in batches) "
        "and, to separate the table from the worker, 4 "
        "threads calling `api.claim` (1 job) and `api.complete`; the floor and pgmq run 4 such "
        "threads on their own SQL (an empty claim sleeps 5 ms); graphile-worker runs `-j 4` "
        "with `addJobs`. Wait is enqueue to claim (handler start); 'with backlog' also counts "
        "every job still queued at the end at its age then (a lower bound). Dead tuples: "
        "`pg_stat_user_tables.n_dead_tup` at the end, for every table of the system that took "
        "writes. Cores stolen: what the host took from this virtual machine over the system's"
        " run (as in section 10). One run each.",
        "",
        "| system | completed / offered | backlog at end | p50 / p99 wait | p99 wait with "
        "backlog | dead tuples at end | cores stolen | Collab / peer (completed ratio) |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for s, e in rows.items():
        dead = ", ".join(f"{t} {n:,}" for t, n in e["dead_tuples_end"].items() if n) or "0"
        stolen = stolen_cell(e.get("cores_stolen"))
        out.append(
            f"| {s} | {e['completed_over_offered']:.2f} ({e['done']:,} of {e['sent']:,}) |"
            f" {e['backlog']:,} | {e['p50_wait_ms']:,.0f} / {e['p99_wait_ms']:,.0f} ms |"
            f" {e['p99_wait_incl_backlog_ms']:,.0f} ms | {dead} | {stolen} |"
            f" {ratio_text(e, 'completed_over_offered')} |"
        )
    return out


def burst_text(rows: dict[str, Any], note: str) -> list[str]:
    any_row = next(iter(rows.values()))
    out = [
        "## 10. Burst on a fresh database (issue 18)",
        "",
        note + f"A producer offers {any_row['offered_per_s']:.0f} jobs/s (a batch every 25 ms) "
        f"for {any_row['seconds']:.0f} s to 4 consumers that claim one job at a time and work "
        "1 ms on it (the same drivers as section 9, no held transaction), each system in a "
        "database freshly copied from its migrated template, autovacuum as the cluster is "
        "configured (`autovacuum_naptime` in the settings above). Completions are counted per "
        "second; steady = the median of the per-second counts over the run, and the verdict "
        "compares the slowest second with the offered rate, which is the steady rate of a "
        "system that keeps up (a median alone would call a run that collapses early and stays "
        "down steady). Dead tuples: "
        "the sum of `n_dead_tup` over the system's tables, sampled every second; the first "
        "autovacuum is the first sample in which `autovacuum_count` of one of them rose. The "
        "per-second series are in the results file (`per_second`, `samples`). Cores stolen:"
        " what the host took from this virtual machine over the system's run (steal, in"
        " cores), sampled each second (`stolen_per_second`): the systems run one after"
        " another, so a run the host took cores from is slower than its neighbours for a"
        " reason outside it. One run each.",
        "",
        "| system | first s | slowest s | median s | slowest / median | slowest / offered | "
        "last quarter / offered | backlog at end | max dead tuples | first autovacuum | "
        "cores stolen | Collab / peer (slowest second) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s, e in rows.items():
        av = "none" if e["first_autovacuum_s"] is None else f"{e['first_autovacuum_s']:.0f} s"
        stolen = stolen_cell(e.get("cores_stolen"))
        out.append(
            f"| {s} | {e['first_second']:,.0f} | {e['min_second']:,.0f} | {e['steady']:,.0f} |"
            f" {e['min_over_steady']:.2f} | {e['min_over_offered']:.2f} |"
            f" {e['last_quarter_over_offered']:.2f} | {e['backlog']:,} |"
            f" {e['dead_tuples_max']:,} | {av} | {stolen} | {ratio_text(e, 'min_over_offered')} |"
        )
    out += ["", "Completions per second:", ""]
    for s, e in rows.items():
        out.append(f"- {s}: " + " ".join(str(int(x)) for x in e["per_second"]))
    return out


def wal_text(rows: dict[str, Any], note: str) -> list[str]:
    out = [
        "## 11. Write amplification: WAL, heap row versions and index entries per job (issue 18)",
        "",
        note + "Each system in a fresh database: `checkpoint`, then enqueue N jobs in batches "
        "of 1,000 and run them to the end with 4 consumers claiming one at a time (no work), "
        "through the same drivers as section 9 (graphile-worker, awa-pg and procrastinate: "
        "their own batch enqueue and a 4-way drain). Method: the WAL between the LSN before "
        "and after is read with `pg_walinspect.pg_get_wal_records_info`, keeping the records "
        "whose block reference is a relation of that database plus the commit records of "
        "those transactions (so other databases and other users of the cluster do not count; "
        "the system's own autovacuum does). WAL bytes = the sum of their lengths (full-page "
        "images included, shown apart); heap row versions = `Heap` INSERT, UPDATE and "
        "HOT_UPDATE records plus the tuples of `Heap2` MULTI_INSERT; index entries = `Btree` "
        "INSERT_LEAF, INSERT_POST and leaf-level SPLIT records (a split carries the entry "
        "that caused it) plus BRIN/GIN/GiST/hash insert records (a BRIN record is written only "
        "when a range summary changes). Cross-check from `pg_stat_user_tables` of the tables "
        "found at run time: row versions = n_tup_ins + n_tup_upd, and an upper bound of index "
        "entries = (n_tup_ins + n_tup_upd - n_tup_hot_upd) x the table's index count (partial "
        "indexes skip rows outside their predicate, so the WAL count is the exact one). "
        "`wal_level=logical` on this cluster, which adds old-key data to some records. "
        "Cluster-wide = `pg_current_wal_lsn()` difference (includes page headers and "
        "everything else the cluster wrote meanwhile). One run each.",
        "",
        "| system | jobs | WAL B/job | enqueue / rest B/job | FPI B/job | records/job | heap row "
        "versions/job | index entries/job | counters: versions, entries <= | cluster-wide "
        "B/job | Collab / peer (WAL bytes) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s, e in rows.items():
        split = (
            f"{e['enqueue_wal_bytes_per_job']:,.0f} / {e['process_wal_bytes_per_job']:,.0f}"
            if "enqueue_wal_bytes_per_job" in e
            else "n/a"
        )
        c = e["counters"]
        out.append(
            f"| {s} | {e['jobs']:,} | {e['wal_bytes_per_job']:,.0f} | {split} |"
            f" {e['fpi_bytes_per_job']:,.0f} | {e['records_per_job']:.1f} |"
            f" {e['heap_versions_per_job']:.2f} | {e['index_entries_per_job']:.2f} |"
            f" {c['heap_versions_per_job']:.2f}, {c['index_entries_upper_per_job']:.2f} |"
            f" {e['wal_lsn_bytes_per_job']:,.0f} | {ratio_text(e, 'wal_bytes_per_job')} |"
        )
    if (cw := rows.get(COLLAB_WORKER)) is not None:
        out += [
            "",
            f"Where Collab's WAL goes ({COLLAB_WORKER}), per job, by relation:",
            "",
            "| relation | WAL B/job | heap row versions/job | index entries/job |",
            "| --- | ---: | ---: | ---: |",
        ]
        for rel, v in cw["by_relation"].items():
            if v["bytes"] >= 1:
                out.append(
                    f"| {rel} | {v['bytes']:,.0f} | {v['heap_versions']:.2f} |"
                    f" {v['index_entries']:.2f} |"
                )
    return out


HOT_TEXT: dict[str, Callable[[dict[str, Any], str], list[str]]] = {
    "held": held_text,
    "burst": burst_text,
    "wal": wal_text,
}


def rest_section() -> list[str]:
    """The latest run of bench/rest_overhead.py (issue 13: the REST path), when there is one."""
    found = sorted((RESULTS / "rest").glob("*.json"), reverse=True)
    if not found:
        return []
    r = json.loads(found[0].read_text())
    med, runs, lat = r["medians"], r["runs"], r["latency_ms"]
    ratio, added = r["ratio_rest_to_direct"], r["gateway_added_p50_ms"]
    front = r.get("front")  # nginx in front of the Python gateway (collab.stack_nginx)
    names = {
        "direct": "psycopg, direct (as the Python worker)",
        "rest": "REST through the gateway (supabase-py/-js path)"
        + (", nginx on the API port" if front else ""),
        "postgrest": "REST straight to PostgREST (no gateway)",
    }
    lines = [
        "",
        "## 8. REST: claim + complete through the gateway and PostgREST vs psycopg",
        "",
        f"`.venv/bin/python {r.get('command', 'bench/rest_overhead.py')}`, {r['started_at']} UTC "
        f"(`bench/results/rest/{found[0].name}`): {r['clients']} concurrent clients (one "
        f"connection and one executor each; {r.get('client', 'httpx and psycopg, asyncio')}), "
        f"{r['seconds']:.0f} s per run, {r['rounds']} rounds in rotating order, medians; "
        f"{r['postgrest_version']} with `db-pool = 10`, `jwt-cache-max-lifetime = 3600`, "
        f"`GHCRTS={r.get('postgrest_rts', '-N')}`; load average "
        f"{r['load_average_at_start'][0]:.1f} at start, {r['load_average_at_end'][0]:.1f} at end "
        f"on {r.get('cores', '?')} cores. Postgres, PostgREST, the gateway and the clients share "
        "the machine's cores (and with other programs' load).",
        "",
        "| path | median | runs |",
        "| --- | ---: | --- |",
    ]
    for mode in ("direct", "rest", "postgrest"):
        shown = ", ".join(f"{x:,.0f}" for x in runs[mode])
        lines.append(f"| {names[mode]} | {med[mode]:,.0f} claim+complete/s | {shown} |")
    lines += [
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
        f"| REST >= 0.5x direct ({r['clients']} clients) | {med['rest']:,.0f} vs "
        f"{med['direct']:,.0f} = {ratio:.2f}x | {'holds' if ratio >= 0.5 else 'does not hold'} |",
        f"| gateway adds <= 1 ms at p50 over PostgREST alone | {lat['p50']['rest']:.2f} vs "
        f"{lat['p50']['postgrest']:.2f} ms = +{added:.2f} ms (p99 {lat['p99']['rest']:.2f} vs "
        f"{lat['p99']['postgrest']:.2f} ms) | {'holds' if added <= 1 else 'does not hold'} |",
    ]
    if front and "python_gateway_added_p50_ms" in r:
        py = r["python_gateway_added_p50_ms"]
        lines += [
            "",
            f"The gateway on the API port is {front}: nginx proxies `/rest/v1` straight to "
            f"PostgREST. nginx's own CPU in the sequential run: "
            f"{r['gateway_cpu_ms_per_request']:.2f} ms per request. In the same run, one "
            "request in three went to the Python gateway's own `/rest/v1` on its internal port "
            f"(what served the API port before nginx): p50 {lat['p50']['python']:.2f} ms, "
            f"+{py:.2f} ms over PostgREST alone (p99 {lat['p99']['python']:.2f} ms), its own "
            f"CPU {r['python_gateway_cpu_ms_per_request']:.2f} ms per request. Before nginx, "
            "the same command on the same machine (2026-12-01, the Python gateway on the API "
            "port; `bench/results/rest/2026-12-01T042705Z.json`, `…T043047Z.json`): the gateway "
            "added +1.97 and +2.59 ms at p50, with 1.63 and 1.62 ms of its CPU per request; "
            "REST / direct was 1.17x and 1.18x (direct's rates are depressed by the other "
            "programs' load, see below).",
        ]
    elif "gateway_cpu_ms_per_request" in r:
        lines += [
            "",
            f"The gateway's own CPU in that sequential run: {r['gateway_cpu_ms_per_request']:.2f} "
            "ms per request; the rest of the added latency is waiting for a core (two more "
            "processes to wake per request, on a machine whose cores were busy).",
        ]
    cpu = r.get("cpu_ms_per_cycle")
    if cpu:
        lines += [
            "",
            "Where the time goes: CPU milliseconds that each process spent per claim+complete "
            "cycle (from /proc, medians of the rounds). When every arm keeps the free cores "
            "busy, the rates are in the inverse ratio of the totals.",
            "",
            "| path | load generator | "
            + ("gateway (nginx + Python)" if front else "gateway")
            + " | PostgREST | Postgres | total | cores busy |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for mode in ("direct", "rest", "postgrest"):
            c = cpu[mode]
            lines.append(
                f"| {mode} | {c['client']:.2f} | {c['gateway']:.2f} | {c['postgrest']:.2f} | "
                f"{c['postgres']:.2f} | {r['cpu_ms_per_cycle_total'][mode]:.2f} | "
                f"{r['cores_busy'][mode]:.2f} |"
            )
        lines += [
            "",
            f"In CPU per cycle REST is {r['cpu_bound_ratio_rest_to_direct']:.2f}x direct.",
        ]
        if max(r["cores_busy"].values()) < 0.75 * (r.get("cores") or 2):
            lines += [
                "",
                "No arm kept the cores busy: they waited for cores that other programs held "
                "(see the load average), and direct's 32 backends suffer more from that than "
                "PostgREST's pool of 10, so the measured throughput ratio flatters REST; the "
                "CPU-per-cycle ratio above is what a machine saturated by these four processes "
                "alone would give.",
            ]
        lines += [
            "",
            "What was measured on the way (2026-11-30, this 2-core machine): PostgREST's own "
            "`Server-Timing` (server-timing-enabled) put its work at about 0.8 ms per RPC, of "
            "which JWT decoding was 0.24 ms; `jwt-cache-max-lifetime` brings that to 0.015 ms. "
            "Its GHC runtime with one capability (`GHCRTS=-N1`, what `collab stack` sets on 2 "
            "cores) spends about 30% less CPU per request than with two. The gateway's "
            "`/rest/v1` is plain ASGI (no router or Request/Response objects; small bodies in "
            "one write each way), about 25% less CPU than the Starlette route. The load "
            "generator was httpx, at 3.7 ms of CPU per request, more than PostgREST and the "
            "gateway together: it is aiohttp now (about 0.9 ms), as light as psycopg. Latency "
            "percentiles were taken at the 0.5th and 1st percentiles before (`pct` takes "
            "percent), which made both p50s look lower.",
        ]
    return lines


HAND_MARK = "<!-- Written by hand from here on: bench/run.py keeps what follows. -->"


def steal_by_section(r: dict[str, Any]) -> list[str]:
    """What the host took from this virtual machine while each section ran (steal, in cores
    of the machine's), and how long the section ran: a slow hour shows here as a cause outside the
    database. Runs recorded before it was sampled: nothing."""
    stolen = r.get("workload_cores_stolen")
    if not stolen:
        return []
    took = r.get("workload_seconds", {})
    return [
        "Cores the host took from this machine while each section ran (steal, of its"
        f" {r['machine']['cores']}): "
        + ", ".join(
            f"{w} {c:.2f} ({took[w]:,.0f} s)" if w in took else f"{w} {c:.2f}"
            for w, c in stolen.items()
        )
        + ". Rows within a section run interleaved, except the held and burst rows, which"
        " give each system's own.",
        "",
    ]


def write_doc(b: Bench, stamp: str, json_name: str, png_name: str | None) -> None:
    r = b.results
    lines = [
        "# Benchmarks",
        "",
        "Collab against its peers on one dedicated local cluster, in the same run, as ratios. "
        "Produced by `bench/run.py` (see `bench/README.md`); do not edit by hand.",
        "",
        f"Run: {stamp} UTC, mode `{'--quick' if b.sizes.quick else 'full'}`, "
        f"{REPEATS} repetitions per figure ({b.sizes.wake_rounds} rounds for the wake-up rows),"
        f" medians. Raw figures: `bench/results/{json_name}`.",
        "",
        f"Machine: {r['machine']['cores']} cores, {r['machine']['memory_gb']} GB memory, "
        f"{r['machine']['platform']}. PostgreSQL {b.settings.get('server_version')}, "
        + ", ".join(f"{k}={v}" for k, v in b.settings.items() if k != "server_version")
        + ".",
        "",
        "Peers: "
        + ", ".join(f"{k} {v}" for k, v in r["peers"].items())
        + ". Collab at commit "
        + r["collab_commit"][:12]
        + ".",
        "",
    ]
    if r["skipped"]:
        lines += ["Skipped: " + "; ".join(f"{k}: {v}" for k, v in r["skipped"].items()) + ".", ""]
    if r["errors"]:
        lines += ["Errors: " + "; ".join(f"{k}: {v}" for k, v in r["errors"].items()) + ".", ""]
    lines += steal_by_section(r)
    if b.sizes.quick:
        lines += [
            "Quick mode uses smaller sizes (see `Sizes` in `bench/run.py`) and "
            f"{b.sizes.pgbench_seconds}-second pgbench runs; other work on the machine during "
            "the run (load average "
            f"{r['machine']['load_average_at_start'][0]:.1f} at start, "
            f"{r['machine'].get('load_average_at_end', [0])[0]:.1f} at end) shows up as noise, "
            "±20% or more. Short drains count each system's start-up against few jobs, which "
            "flatters the fastest starter: the full run (`make bench`) is the reference.",
            "",
        ]
    lines += [
        "## Targets (PRODUCT.md §10)",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in targets(b)]
    if b.sizes.quick:
        full = latest_full_run()
        if full is not None:
            name, saved = full
            lines += [
                "",
                f"### The same targets in the latest full run (`bench/results/{name}`, "
                f"{saved['started_at']} UTC, 10-second pgbench runs, 20,000-job drains)",
                "",
                "| target | measured | verdict |",
                "| --- | --- | --- |",
            ]
            lines += [
                f"| {t['target']} | {t['measured']} | {t['verdict']} |" for t in saved["targets"]
            ]
    titles = {
        "enqueue": "1. Enqueue (jobs/s)",
        "drain": f"2. End to end: drain {b.sizes.drain:,} no-op jobs (jobs/s)",
        "sql": f"3. SQL level: pgbench, 4 clients, {b.sizes.pgbench_seconds} s runs (jobs/s)",
        "wake": "4. Wake-up latency, enqueue to handler start (ms)",
        "overhead": "5. Overhead: events on vs off (claim+complete jobs/s)",
        "growth": "6. Growth: claim+complete with finished jobs in the table (jobs/s)",
        "soak": "7. Soak",
    }
    for w, rows in r["workloads"].items():
        if w in HOT_WORKLOADS:
            continue  # their own sections, below
        lines += [
            "",
            f"## {titles.get(w, w)}",
            "",
            "| system | median | runs | ratio |",
            "| --- | ---: | --- | --- |",
        ]
        for s, e in rows.items():
            runs = ", ".join(f"{x:,.0f}" if x >= 100 else f"{x:.2f}" for x in e["runs"])
            med = f"{e['median']:,.0f}" if e["median"] >= 100 else f"{e['median']:.2f}"
            lines.append(f"| {s} | {med} {e['unit']} | {runs} | {reference_for(w, s, b)} |")
        if w == "soak":
            lines += soak_section(r)
    if r.get("profile"):
        lines += [
            "",
            "## Profile: pg_stat_statements (nested statements) over claim+complete",
            "",
            "| total ms | calls | mean ms | plans | statement |",
            "| ---: | ---: | ---: | ---: | --- |",
        ]
        for p in r["profile"][:10]:
            q = p["query"][:120].replace("|", "\\|")
            plans = f"{p['plans']:,}" if "plans" in p else ""
            lines.append(
                f"| {p['total_ms']:,.1f} | {p['calls']:,} | {p['mean_ms']:.3f} | {plans} | `{q}` |"
            )
    lines += rest_section()
    lines += hot_sections(r)
    if png_name:
        lines += [
            "",
            "## Plot",
            "",
            f"![throughput by system and growth](../bench/results/{png_name})",
        ]
    # The sections written by hand (other benchmarks, with their own scripts) follow the marker;
    # a new rendering keeps them as they are.
    kept = ""
    if DOC.exists():
        previous = DOC.read_text()
        if HAND_MARK in previous:
            kept = "\n" + previous[previous.index(HAND_MARK) :]
    DOC.write_text("\n".join(lines) + "\n" + kept)


def plot(b: Bench, path: Path) -> bool:
    try:
        plt = plt_module()
    except Exception as exc:  # the plot is optional; the figures are not
        b.skip("plot", f"matplotlib unavailable: {exc}")
        return False
    w = b.results["workloads"]
    if not any(w.get(k) for k in ("drain", "sql", "growth")):
        return False  # nothing this plot shows (e.g. --only held,burst,wal)
    fig_, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 6), gridspec_kw={"width_ratios": [2, 1]})
    bars = [(s, e["median"]) for s, e in w.get("drain", {}).items()]
    bars += [(f"SQL: {s}", e["median"]) for s, e in w.get("sql", {}).items()]
    if bars:
        names, vals = zip(*bars, strict=True)
        colors = [
            "tab:blue" if n.startswith(("collab", "SQL: collab")) else "tab:gray" for n in names
        ]
        ax1.barh(range(len(vals)), vals, color=colors)
        ax1.set_yticks(range(len(vals)), names, fontsize=7)
        ax1.invert_yaxis()
        ax1.set_xlabel("jobs/s (median)")
        ax1.set_title("Throughput by system (drain and pgbench)")
    g = w.get("growth", {})
    if g:
        xs = [e["finished"] for e in g.values()]
        ys = [e["median"] for e in g.values()]
        ax2.plot(xs, ys, marker="o")
        ax2.set_xscale("log")
        ax2.set_ylim(0, max(ys) * 1.2)
        ax2.set_xlabel("finished jobs stored (collab.job_history)")
        ax2.set_ylabel("claim+complete jobs/s (pgbench, 4 clients)")
        ax2.set_title("Growth")
    fig_.tight_layout()
    fig_.savefig(path, dpi=90, bbox_inches="tight")
    return True


def machine(b: Bench) -> dict[str, Any]:
    mem_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "platform": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "load_average_at_start": os.getloadavg(),
    }


def names_from(choices: tuple[str, ...]) -> Callable[[str], list[str]]:
    """An argparse type: comma-separated names, each one of choices."""

    def parse(text: str) -> list[str]:
        names = [w.strip() for w in text.split(",") if w.strip()]
        bad = [w for w in names if w not in choices]
        if bad or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(bad) or '(none)'}; choose from {', '.join(choices)}"
            )
        return names

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes; under 3 minutes")
    parser.add_argument(
        "--only",
        type=names_from(WORKLOADS),
        help="run only these workloads, comma-separated: " + ", ".join(WORKLOADS),
    )
    parser.add_argument("--soak", action="store_true", help="add the 10-minute soak")
    parser.add_argument("--soak-seconds", type=int, default=600, help=argparse.SUPPRESS)
    parser.add_argument(
        "--soak-rate",
        type=float,
        help="soak rate in jobs/s (default: half the fed peak, SOAK_SHARE)",
    )
    parser.add_argument(
        "--held-seconds",
        type=int,
        help="how long the held row holds its snapshot (default 150; 30 with --quick)",
    )
    parser.add_argument(
        "--hot-systems",
        type=names_from(HOT_KINDS),
        help="the held and burst rows' systems only, comma-separated kinds: "
        + ", ".join(HOT_KINDS),
    )
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/bench.md")
    parser.add_argument(
        "--render", metavar="JSON", help="rewrite docs/bench.md from a results file"
    )
    args = parser.parse_args()
    if args.render:
        path = Path(args.render).resolve()
        saved = json.loads(path.read_text())
        b = Bench(Sizes(saved["mode"] == "quick"))
        b.results, b.settings = saved, saved["settings"]
        png = path.with_suffix(".png")
        write_doc(b, saved["started_at"], path.name, png.name if png.exists() else None)
        say(f"wrote {DOC.relative_to(ROOT)}")
        return

    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    b = Bench(Sizes(args.quick))
    if args.held_seconds:
        b.sizes.held_seconds = args.held_seconds
    if args.hot_systems:
        b.hot_kinds = set(args.hot_systems)
    b.pg_options = {}
    b.start()
    peers: dict[str, Any] = ensure_python_peers(b)
    gw = ensure_node_peer(b)
    if gw:
        peers["graphile-worker"] = gw
    if "pgmq" in peers and not (PEERS_PY / "pgmq" / "sql" / "pgmq.sql").exists():
        b.skip("pgmq", "the PyPI package does not ship pgmq.sql")
        del peers["pgmq"]
    versions = dict(peers)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    b.results.update(
        machine=machine(b),
        settings=b.settings,
        peers=versions,
        collab_commit=commit,
        mode="quick" if args.quick else "full",
        started_at=stamp,
        command=" ".join([".venv/bin/python", "bench/run.py", *sys.argv[1:]]),
    )
    chosen = args.only or [
        w for w in WORKLOADS if (w != "soak" or args.soak) and not (args.quick and w in NOT_QUICK)
    ]
    table: dict[str, Callable[[Bench, dict[str, Any]], None]] = {
        "enqueue": w_enqueue,
        "drain": w_drain,
        "sql": w_sql,
        "wake": w_wake,
        "overhead": w_overhead,
        "growth": w_growth,
        "held": w_held,
        "burst": w_burst,
        "wal": w_wal,
        "soak": lambda bb, pp: w_soak(bb, pp, args.soak_seconds, args.soak_rate),
    }
    for w in chosen:
        t_w, stolen_w = time.perf_counter(), machine_cpu()[1]
        try:
            table[w](b, peers)
        except Exception as exc:  # report and go on: one broken workload must not hide the rest
            b.results["errors"][w] = f"{type(exc).__name__}: {exc}"
            say(f"  error in {w}: {type(exc).__name__}: {exc}")
        took = time.perf_counter() - t_w
        stolen = (machine_cpu()[1] - stolen_w) / max(took, 1e-9)
        b.results.setdefault("workload_seconds", {})[w] = round(took, 1)
        b.results.setdefault("workload_cores_stolen", {})[w] = round(stolen, 3)
        say(f"  ({w}: {took:.0f} s, the host took {stolen:.2f} cores)")
    if not args.only or {"sql", "overhead"} & set(args.only):
        try:
            profile(b)
        except Exception as exc:
            b.results["errors"]["profile"] = f"{type(exc).__name__}: {exc}"
    b.results["seconds"] = round(time.perf_counter() - started, 1)
    b.results["machine"]["load_average_at_end"] = os.getloadavg()
    # A run that leaves the document alone is a measurement of the moment: its figures go to
    # bench/results/scratch/ (git-ignored), where neither a later document (latest_full_run,
    # latest_with) nor a commit picks them up.
    out = RESULTS / "scratch" if args.no_doc else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"{stamp}.json"
    png_path = out / f"{stamp}.png"
    has_png = plot(b, png_path)
    b.results["targets"] = [{"target": t, "measured": m, "verdict": v} for t, m, v in targets(b)]
    json_path.write_text(json.dumps(b.results, indent=2, default=str) + "\n")
    if not args.no_doc:
        write_doc(b, stamp, json_path.name, png_path.name if has_png else None)
    say("")
    say("targets (PRODUCT.md section 10):")
    for t, m, v in targets(b):
        say(f"  {v:14} {t}: {m}")
    say(
        f"\nwrote {json_path.relative_to(ROOT)}"
        + (f", {png_path.relative_to(ROOT)}" if has_png else "")
    )
    if not args.no_doc:
        say(f"wrote {DOC.relative_to(ROOT)}")
    say(f"total {b.results['seconds']:.0f} s")


if __name__ == "__main__":
    main()
