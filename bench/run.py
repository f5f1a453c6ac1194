"""Collab against its peers on one dedicated local cluster, in one run, as ratios.

Run from the repository root:

    .venv/bin/python bench/run.py            # full run (make bench)
    .venv/bin/python bench/run.py --quick    # under 3 minutes (make bench-quick)
    .venv/bin/python bench/run.py --only sql # one workload
    .venv/bin/python bench/run.py --soak     # adds the 10-minute soak

Every workload is repeated 3 times and reported as the median. Peers are installed into
git-ignored folders under bench/.peers/ from PyPI and npm; a peer that does not install or
run is skipped with the reason printed, never estimated. Results go to
bench/results/<UTC date-time>.json, a table to docs/bench.md and one plot to bench/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
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
from collab.client import Client  # noqa: E402
from collab.embedded import EmbeddedPostgres, find_bin_dir  # noqa: E402
from collab.worker import Worker  # noqa: E402

REPEATS = 3
WORKLOADS = ("enqueue", "drain", "sql", "wake", "overhead", "growth", "soak")
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
        self.growth = [10**4, 10**5] if quick else [10**4, 10**5, 10**6]


# -- the cluster ---------------------------------------------------------------------------


class Bench:
    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self.cluster = EmbeddedPostgres(base=BENCH / ".cluster", port="auto")
        self.results: dict[str, Any] = {"workloads": {}, "skipped": {}, "errors": {}}
        self.templates: set[str] = set()

    def start(self) -> None:
        st = self.cluster.start()
        self.port = st.port
        with self.connect("postgres") as c:
            c.execute("create extension if not exists pg_stat_statements")
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
        return self.template("tpl_collab", migrate.up)

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
    env = dict(os.environ, PEERS_NODE=str(PEERS_NODE))
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


# -- helpers ---------------------------------------------------------------------------------


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


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


# -- 1. enqueue -----------------------------------------------------------------------------


def w_enqueue(b: Bench, peers: dict[str, Any]) -> None:
    say("1. enqueue: one per transaction, and batches of 1,000 (jobs/s)")
    n1, nb = b.sizes.enqueue_one, b.sizes.enqueue_batch
    tpl = b.collab_template()

    def collab_one() -> float:
        dsn = b.fresh("b_enqueue", tpl)
        with psycopg.connect(dsn, autocommit=True) as c:
            t0 = time.perf_counter()
            for _ in range(n1):
                c.execute("select id from api.enqueue('bench', 'noop', '{}'::jsonb)")
            return rate(n1, time.perf_counter() - t0)

    def collab_batch() -> float:
        dsn = b.fresh("b_enqueue", tpl)
        body = batch_json(1000)
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("select count(*) from api.enqueue_batch(%s::jsonb)", [batch_json(1)])
            t0 = time.perf_counter()
            for _ in range(nb // 1000):
                c.execute("select count(*) from api.enqueue_batch(%s::jsonb)", [body])
            return rate(nb, time.perf_counter() - t0)

    b.record(
        "enqueue", "collab one (api.enqueue)", [collab_one() for _ in range(REPEATS)], "jobs/s"
    )
    b.record(
        "enqueue",
        "collab batch (api.enqueue_batch)",
        [collab_batch() for _ in range(REPEATS)],
        "jobs/s",
    )

    plain = b.template("tpl_plain", build_plain)

    def plain_one() -> float:
        dsn = b.fresh("b_enqueue", plain)
        with psycopg.connect(dsn, autocommit=True) as c:
            t0 = time.perf_counter()
            for _ in range(n1):
                c.execute("insert into plain_jobs (queue, payload) values ('bench', '{}')")
            return rate(n1, time.perf_counter() - t0)

    def plain_batch() -> float:
        dsn = b.fresh("b_enqueue", plain)
        body = json.dumps([{}] * 1000)
        with psycopg.connect(dsn, autocommit=True) as c:
            t0 = time.perf_counter()
            for _ in range(nb // 1000):
                c.execute(
                    "insert into plain_jobs (queue, payload)"
                    " select 'bench', e from jsonb_array_elements(%s::jsonb) e",
                    [body],
                )
            return rate(nb, time.perf_counter() - t0)

    b.record(
        "enqueue", "baseline one (plain insert)", [plain_one() for _ in range(REPEATS)], "jobs/s"
    )
    b.record(
        "enqueue",
        "baseline batch (plain insert)",
        [plain_batch() for _ in range(REPEATS)],
        "jobs/s",
    )

    if "pgmq" in peers:
        pg = b.template("tpl_pgmq", build_pgmq)

        def pgmq_one() -> float:
            dsn = b.fresh("b_enqueue", pg)
            with psycopg.connect(dsn, autocommit=True) as c:
                t0 = time.perf_counter()
                for _ in range(n1):
                    c.execute("select pgmq.send('bench', '{}'::jsonb)")
                return rate(n1, time.perf_counter() - t0)

        def pgmq_batch() -> float:
            dsn = b.fresh("b_enqueue", pg)
            msgs = [Jsonb({})] * 1000
            with psycopg.connect(dsn, autocommit=True) as c:
                t0 = time.perf_counter()
                for _ in range(nb // 1000):
                    c.execute("select count(*) from pgmq.send_batch('bench', %s::jsonb[])", [msgs])
                return rate(nb, time.perf_counter() - t0)

        b.record("enqueue", "pgmq one (send)", [pgmq_one() for _ in range(REPEATS)], "jobs/s")
        b.record(
            "enqueue", "pgmq batch (send_batch)", [pgmq_batch() for _ in range(REPEATS)], "jobs/s"
        )

    if "graphile-worker" in peers:
        gw = b.template("tpl_graphile", build_graphile)

        def gw_run(mode: str, n: int) -> list[float]:
            r = graphile(b.fresh("b_enqueue", gw), mode, n, REPEATS)
            return [rate(r["jobs"], x) for x in r["runs"]]

        b.record(
            "enqueue",
            "graphile-worker one (addJob)",
            gw_run("enqueue-one", n1),
            "jobs/s",
        )
        b.record(
            "enqueue",
            "graphile-worker batch (addJobs)",
            gw_run("enqueue-batch", nb),
            "jobs/s",
        )

    if "awa-pg" in peers:
        aw = b.template("tpl_awa", build_awa)

        def awa_run(mode: str, n: int) -> list[float]:
            r = awa(b.fresh("b_enqueue", aw), mode, n, REPEATS)
            return [rate(r["jobs"], x) for x in r["runs"]]

        b.record(
            "enqueue",
            "awa-pg one (insert)",
            awa_run("enqueue-one", n1),
            "jobs/s",
        )
        b.record(
            "enqueue",
            "awa-pg batch (insert_many_copy)",
            awa_run("enqueue-batch", nb),
            "jobs/s",
        )

    if "procrastinate" in peers:
        pr = b.template("tpl_procrastinate", build_procrastinate)

        def pr_run(mode: str, n: int) -> list[float]:
            r = procrastinate(b.fresh("b_enqueue", pr), mode, n, REPEATS)
            return [rate(r["jobs"], x) for x in r["runs"]]

        b.record(
            "enqueue",
            "procrastinate one (defer)",
            pr_run("enqueue-one", n1),
            "jobs/s",
        )
        b.record(
            "enqueue",
            "procrastinate batch (batch_defer)",
            pr_run("enqueue-batch", nb),
            "jobs/s",
        )


# -- 2. end to end ----------------------------------------------------------------------------


def collab_drain(b: Bench, n: int, concurrency: int, max_batch: int) -> float:
    dsn = b.fresh("b_drain", b.collab_template())
    fill_collab(dsn, n)
    client = Client(dsn, max_size=4, application_name="bench-worker")
    try:
        worker = Worker(
            client, ["bench"], concurrency=concurrency, max_batch=max_batch, name="bench"
        )

        @worker.task("noop")
        def noop(ctx: Any) -> None:
            return None

        t0 = time.perf_counter()
        worker.run(stop_when_idle=True)
        seconds = time.perf_counter() - t0
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


def w_drain(b: Bench, peers: dict[str, Any]) -> None:
    n, slow = b.sizes.drain, b.sizes.drain_slow
    say(f"2. end to end: drain {n:,} pre-enqueued no-op jobs (jobs/s)")
    for c in (4, 32):
        b.record(
            "drain",
            f"collab worker concurrency {c}",
            [collab_drain(b, n, c, 1000) for _ in range(REPEATS)],
            "jobs/s",
        )
    b.record(
        "drain",
        "collab high-throughput (concurrency 500, batch claims of 500)",
        [collab_drain(b, n, 500, 500) for _ in range(REPEATS)],
        "jobs/s",
    )
    if "graphile-worker" in peers:
        gw = b.template("tpl_graphile", build_graphile)

        def gw_drain(c: int, local_queue: int = 0) -> float:
            dsn = b.fresh("b_drain", gw)
            r = graphile(dsn, "drain", n, c, local_queue)
            return rate(r["jobs"], r["seconds"])

        for c in (4, 32):
            b.record(
                "drain", f"graphile-worker -j {c}", [gw_drain(c) for _ in range(REPEATS)], "jobs/s"
            )
        b.record(
            "drain",
            "graphile-worker -j 32, local queue of 500",
            [gw_drain(32, 500) for _ in range(REPEATS)],
            "jobs/s",
        )
    if "procrastinate" in peers:
        pr = b.template("tpl_procrastinate", build_procrastinate)

        def pr_drain(c: int) -> float:
            dsn = b.fresh("b_drain", pr)
            r = procrastinate(dsn, "drain", slow, c)
            return rate(r["jobs"], r["seconds"])

        for c in (4, 32):
            b.record(
                "drain",
                f"procrastinate concurrency {c} ({slow:,} jobs)",
                [pr_drain(c) for _ in range(REPEATS)],
                "jobs/s",
            )
    if "awa-pg" in peers:
        aw = b.template("tpl_awa", build_awa)
        na = b.sizes.drain_awa

        def awa_drain(c: int) -> float:
            dsn = b.fresh("b_drain", aw)
            r = awa(dsn, "drain", na, c)
            return rate(r["jobs"], r["seconds"])

        for c in (4, 32):
            b.record(
                "drain",
                f"awa-pg {c} workers ({na:,} jobs)",
                [awa_drain(c) for _ in range(REPEATS)],
                "jobs/s",
            )


# -- 3. SQL level (pgbench) -------------------------------------------------------------------

SCRIPTS = {
    "collab1": """
select coalesce(max(id), 0) as id, coalesce(max(lease_token::text), '') as tok
  from api.claim(':exec'::uuid, '{bench}'::text[], 1, 300) \\gset
\\if :id
select id from api.complete(:id, ':tok'::uuid, null);
\\endif
""",
    "collab10": """
select coalesce(array_agg(id)::text, '{}') as ids, coalesce(array_agg(lease_token)::text, '{}') as toks
  from api.claim(':exec'::uuid, '{bench}'::text[], 10, 300) \\gset
select count(*) from api.complete_batch((select coalesce(jsonb_agg(jsonb_build_object(
  'job_id', i, 'lease_token', t)), '[]') from unnest(':ids'::bigint[], ':toks'::uuid[]) u(i, t)));
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
}

DONE_SQL = {
    "collab": "select count(*) from collab.job_history where status = 'succeeded'",
    "plain": "select -count(*) from plain_jobs",
    "pgmq": "select count(*) from pgmq.a_bench",
}


LEFT_SQL = {
    "collab": "select count(*) from collab.jobs where status = 'queued'",
    "plain": "select count(*) from plain_jobs where locked_at is null",
    "pgmq": "select count(*) from pgmq.q_bench where vt < now()",
}


def pgbench(b: Bench, db: str, script: str, seconds: int, defines: dict[str, str]) -> float:
    """Run one pgbench script (4 clients); return jobs/s (jobs actually finished)."""
    kind = re.sub(r"\d+$", "", script)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(SCRIPTS[script])
        path = f.name
    try:
        with b.connect(db) as c:
            before = c.execute(DONE_SQL[kind]).fetchone()[0]
        cmd = [str(find_bin_dir() / "pgbench"), "-n", "-c", "4", "-j", "2", "-T", str(seconds)]
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


def executor(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as c:
        row = c.execute("select api.register_executor('bench', '{bench}')").fetchone()
    assert row is not None
    return str(row[0]).strip("()").split(",")[0] if not _is_uuid(row[0]) else str(row[0])


def _is_uuid(value: Any) -> bool:
    return bool(re.fullmatch(r"[0-9a-f-]{36}", str(value)))


def collab_pgbench_db(b: Bench, name: str, jobs: int, triggers: bool = True) -> str:
    dsn = b.fresh(name, b.collab_template())
    if not triggers:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("alter table collab.jobs disable trigger user")
            c.execute("alter table collab.job_history disable trigger user")
    fill_collab(dsn, jobs)
    settle(dsn)
    return executor(dsn)


def settle(dsn: str) -> None:
    """Vacuum and checkpoint after a fill, so the timed runs do not pay for the fill."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("vacuum analyze")
        c.execute("checkpoint")


def supply(b: Bench, per_job_rate: float) -> int:
    return int(per_job_rate * b.sizes.pgbench_seconds * REPEATS * 1.3) + 1000


def w_sql(b: Bench, peers: dict[str, Any]) -> None:
    t = b.sizes.pgbench_seconds
    say(f"3. SQL level: pgbench, 4 clients, {t} s per run, systems interleaved (jobs/s)")
    # (label, database, script, defines): every database is filled first, then the runs go
    # round-robin, so a burst of other work on the machine hits every system alike.
    configs: list[tuple[str, str, str, dict[str, str]]] = []
    for k in (1, 10):
        db = f"b_sql_collab{k}"
        ex = collab_pgbench_db(b, db, supply(b, (2500, 6000)[k > 1]))
        configs.append(
            (f"collab api.claim+api.complete, {k} per tx", db, f"collab{k}", {"exec": ex})
        )
    for k in (1, 10):
        db = f"b_sql_plain{k}"
        dsn = b.fresh(db, b.template("tpl_plain", build_plain))
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(
                "insert into plain_jobs (queue, payload)"
                " select 'bench', '{}' from generate_series(1, %s)",
                [supply(b, (4000, 20000)[k > 1])],
            )
        settle(dsn)
        configs.append(
            (f"baseline SKIP LOCKED claim tx + delete tx, {k} per tx", db, f"plain{k}", {})
        )
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
    for _ in range(REPEATS):
        for label, db, script, defines in configs:
            runs[label].append(pgbench(b, db, script, t, defines))
    for label, *_ in configs:
        b.record("sql", label, runs[label], "jobs/s")


# -- 4. wake-up latency -----------------------------------------------------------------------


def collab_wake(b: Bench, n: int, per_second: float) -> list[float]:
    dsn = b.fresh("b_wake", b.collab_template())
    latencies: list[float] = []
    client = Client(dsn, max_size=4, application_name="bench-worker")
    worker = Worker(client, ["wake"], concurrency=4, name="bench-wake", poll_seconds=1.0)

    @worker.task("noop")
    def noop(ctx: Any) -> None:
        latencies.append(time.time() * 1000 - float(ctx.payload["t"]))

    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("select id from api.enqueue('wake', 'warmup', '{}'::jsonb)")
        c.execute("delete from collab.jobs")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    time.sleep(0.5)
    try:
        with psycopg.connect(dsn, autocommit=True) as c:
            t0 = time.perf_counter()
            for i in range(n):
                wait = t0 + i / per_second - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                c.execute(
                    "select id from api.enqueue('wake', 'noop', jsonb_build_object('t', %s::float8))",
                    [time.time() * 1000],
                )
        deadline = time.time() + 5
        while len(latencies) < n and time.time() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
        thread.join(15)
        client.close()
    if len(latencies) < n:
        raise RuntimeError(f"collab worker started {len(latencies)} of {n} jobs")
    return latencies


def w_wake(b: Bench, peers: dict[str, Any]) -> None:
    n = b.sizes.wake_jobs
    say(f"4. wake-up latency: idle worker, {n} jobs enqueued one per transaction at 50/s (ms)")

    def report(system: str, runs: list[list[float]]) -> None:
        p50 = [pct(r, 50) for r in runs]
        p99 = [pct(r, 99) for r in runs]
        b.record("wake", f"{system} p50", p50, "ms")
        b.record("wake", f"{system} p99", p99, "ms")

    report("collab worker", [collab_wake(b, n, 50) for _ in range(REPEATS)])
    if "graphile-worker" in peers:
        gw = b.template("tpl_graphile", build_graphile)
        report(
            "graphile-worker",
            [
                graphile(b.fresh("b_wake", gw), "wake", n, 50)["latencies_ms"]
                for _ in range(REPEATS)
            ],
        )


# -- 5. overhead ------------------------------------------------------------------------------


def w_overhead(b: Bench, peers: dict[str, Any]) -> None:
    t = b.sizes.pgbench_seconds
    say("5. overhead: claim+complete (pgbench, 1 per tx) with events triggers on vs off")
    ex_on = collab_pgbench_db(b, "b_over_on", supply(b, 2500))
    ex_off = collab_pgbench_db(b, "b_over_off", supply(b, 3000), triggers=False)
    on: list[float] = []
    off: list[float] = []
    for _ in range(REPEATS):  # interleaved, so background noise hits both alike
        on.append(pgbench(b, "b_over_on", "collab1", t, {"exec": ex_on}))
        off.append(pgbench(b, "b_over_off", "collab1", t, {"exec": ex_off}))
    b.record("overhead", "collab, events on", on, "jobs/s")
    b.record("overhead", "collab, events off (triggers disabled)", off, "jobs/s")


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


def soak_feed(
    b: Bench, db: str, seconds: float, rate: float | None, sample_every: float
) -> list[dict[str, float]]:
    """A 32-way worker drains queue bench while this thread feeds it; samples over time.

    rate None: keep 5,000 jobs queued (the producer tops the backlog up as the worker takes
    it), to find what the worker sustains while a producer shares the machine with it."""
    dsn = b.fresh(db, b.collab_template())
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
                    # Jobs done come from the worker, the backlog from what was sent.
                    row = c.execute(
                        "select pg_total_relation_size('collab.jobs'),"
                        " pg_total_relation_size('collab.job_events'),"
                        " pg_relation_size('collab.jobs_queued_claim_idx'),"
                        " (select n_dead_tup from pg_stat_user_tables"
                        "   where relid = 'collab.jobs'::regclass)"
                    ).fetchone()
                    assert row is not None
                    done_now = worker.processed
                    samples.append(
                        {
                            "t": now,
                            "done": done_now,
                            "backlog": sent - done_now,
                            "jobs_bytes": row[0],
                            "events_bytes": row[1],
                            "jobs": sent,
                            "claim_index_bytes": row[2],
                            "dead_tuples": row[3],
                        }
                    )
                    say(
                        f"  t={now:5.0f}s done={done_now:,} backlog={sent - done_now:,}"
                        f" jobs={row[0] / 1e6:.1f} MB ({row[0] / max(sent, 1):.0f} B/job)"
                        f" claim index={row[2] / 1e6:.2f} MB dead tuples={row[3]:,}"
                    )
                    next_sample += sample_every
    finally:
        worker.stop()
        thread.join(30)
        client.close()
    return samples


def rate_between(samples: list[dict[str, float]], first: int, last: int = -1) -> float:
    a, z = samples[first], samples[last]
    return (z["done"] - a["done"]) / max(z["t"] - a["t"], 1e-9)


def w_soak(b: Bench, peers: dict[str, Any], seconds: int = 600, rate: float | None = None) -> None:
    # Peak: what the 32-way worker sustains while a producer on the same machine keeps 5,000
    # jobs queued (the producer's CPU is part of a soak; the drain workload has none). The soak
    # then runs at 80 % of that, so that it measures a steady state and not an overload.
    if rate is None:
        say("7. soak: first 60 s with 5,000 jobs kept queued, to find the peak the worker sustains")
        warm = soak_feed(b, "b_soak", 60, None, 10.0)
        peak = rate_between(warm, 1)
        b.results["soak_peak"] = {"jobs_per_s": peak, "samples": warm}
        target, how = 0.8 * peak, f"80% of the fed peak, {peak:,.0f} jobs/s"
    else:
        target, how = rate, "given"
    say(f"7. soak: {seconds} s at {target:,.0f} jobs/s ({how})")
    samples = soak_feed(b, "b_soak", seconds, target, max(5.0, min(30.0, seconds / 20)))
    b.results["soak"] = {"target_jobs_per_s": target, "samples": samples}
    done = rate_between(samples, 0) if len(samples) > 1 else 0.0
    b.record("soak", "collab worker concurrency 32, sustained", [done], "jobs/s")


# -- profile ------------------------------------------------------------------------------------


def profile(b: Bench) -> None:
    """pg_stat_statements with nested statements, over one short claim+complete run of each kind."""
    say("profile: pg_stat_statements (track = all) over claim+complete, 1 and 10 per tx")
    ex = collab_pgbench_db(b, "b_profile", 20000)
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


def targets(b: Bench) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for PRODUCT.md section 10."""
    out: list[tuple[str, str, str]] = []

    def ratio(
        name: str, a: float | None, c: float | None, need: float, lower: bool = False
    ) -> None:
        if a is None or c is None or c == 0:
            out.append((name, "not measured", "not measured"))
            return
        r = a / c
        ok = r <= need if lower else r >= need
        out.append((name, f"{a:,.1f} vs {c:,.1f} = {r:.2f}x", "holds" if ok else "does not hold"))

    for c in (4, 32):
        peers = [fig(b, "drain", f"graphile-worker -j {c}")]
        peers += [
            e["median"]
            for s, e in b.results["workloads"].get("drain", {}).items()
            if s.startswith(f"awa-pg {c} ")
        ]
        best = max((p for p in peers if p is not None), default=None)
        ratio(
            f"end to end {c}-way >= 1.5x best peer (graphile-worker, awa-pg)",
            fig(b, "drain", f"collab worker concurrency {c}"),
            best,
            1.5,
        )
    ratio(
        "high-throughput setting >= graphile-worker local queue",
        fig(b, "drain", "collab high-throughput (concurrency 500, batch claims of 500)"),
        fig(b, "drain", "graphile-worker -j 32, local queue of 500"),
        1.0,
    )
    ratio(
        "claim+complete 1/tx >= 0.8x SKIP LOCKED cycle",
        fig(b, "sql", "collab api.claim+api.complete, 1 per tx"),
        fig(b, "sql", "baseline SKIP LOCKED claim tx + delete tx, 1 per tx"),
        0.8,
    )
    ratio(
        "claim+complete 1/tx >= pgmq read+archive",
        fig(b, "sql", "collab api.claim+api.complete, 1 per tx"),
        fig(b, "sql", "pgmq read+archive, 1 per read"),
        1.0,
    )
    ratio(
        "claim+complete 10/tx >= pgmq 10 per read",
        fig(b, "sql", "collab api.claim+api.complete, 10 per tx"),
        fig(b, "sql", "pgmq read+archive, 10 per read"),
        1.0,
    )
    ratio(
        "batch enqueue >= graphile-worker addJobs",
        fig(b, "enqueue", "collab batch (api.enqueue_batch)"),
        fig(b, "enqueue", "graphile-worker batch (addJobs)"),
        1.0,
    )
    for p in ("p50", "p99"):
        ratio(
            f"wake-up {p} <= graphile-worker",
            fig(b, "wake", f"collab worker {p}"),
            fig(b, "wake", f"graphile-worker {p}"),
            1.0,
            lower=True,
        )
    ratio(
        "overhead: events on >= 0.75x off",
        fig(b, "overhead", "collab, events on"),
        fig(b, "overhead", "collab, events off (triggers disabled)"),
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
    out.append(("no unbounded bloat in a 10-minute soak", "run with --soak", "not measured"))
    if "soak" in b.results and len(b.results["soak"].get("samples", [])) >= 3:
        # History is kept (every job stays), so the table grows with the jobs done; bloat is
        # growth beyond that: bytes per job (table and indexes) from a third of the run to its
        # end, and the claim index, which holds only queued jobs, staying near its size.
        s = b.results["soak"]["samples"]
        third, last = s[len(s) // 3], s[-1]
        per_job = [x["jobs_bytes"] / max(x["jobs"], 1) for x in (third, last)]
        claim_mb = [x["claim_index_bytes"] / 1e6 for x in (third, last)]
        bounded = per_job[1] <= 1.2 * per_job[0] and claim_mb[1] <= 2 * max(claim_mb[0], 1.0)
        out[-1] = (
            "no unbounded bloat in a 10-minute soak (bytes/job within 1.2x, claim index within 2x"
            f" from t={third['t']:.0f}s to t={last['t']:.0f}s)",
            f"fed {b.results['soak']['target_jobs_per_s']:,.0f} jobs/s;"
            f" {per_job[0]:.0f} -> {per_job[1]:.0f} B/job; claim index {claim_mb[0]:.2f} ->"
            f" {claim_mb[1]:.2f} MB; backlog {last['backlog']:,}",
            "holds" if bounded else "does not hold",
        )
    return out


def reference_for(workload: str, system: str, b: Bench) -> str:
    """The ratio column: a Collab figure against the best peer and the baseline of its kind."""
    rows = b.results["workloads"][workload]
    me = rows[system]["median"]
    if workload == "overhead":
        off_name = "collab, events off (triggers disabled)"
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
            s: r["median"] for s, r in rows.items() if not s.startswith("collab") and s.endswith(p)
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
                return True
            c = "32" if "32" in system else "4"
            return "local queue" not in s and bool(re.search(rf"(-j|concurrency|awa-pg) {c}\b", s))
        return False

    peers = {
        s: r["median"]
        for s, r in rows.items()
        if same_kind(s) and not s.startswith(("collab", "baseline"))
    }
    base = [r["median"] for s, r in rows.items() if same_kind(s) and s.startswith("baseline")]
    parts = []
    if peers:
        best = max(peers, key=peers.__getitem__)
        parts.append(f"{me / peers[best]:.2f}x of best peer ({best})")
    if base:
        parts.append(f"{me / base[0]:.2f}x of baseline")
    return "; ".join(parts)


def latest_full_run() -> tuple[str, dict[str, Any]] | None:
    for path in sorted(RESULTS.glob("*.json"), reverse=True):
        with contextlib.suppress(OSError, ValueError):
            saved = json.loads(path.read_text())
            if saved.get("mode") == "full" and saved.get("targets"):
                return path.name, saved
    return None


def rest_section() -> list[str]:
    """The latest run of bench/rest_overhead.py (issue 13: the REST path), when there is one."""
    found = sorted((RESULTS / "rest").glob("*.json"), reverse=True)
    if not found:
        return []
    r = json.loads(found[0].read_text())
    med, runs, lat = r["medians"], r["runs"], r["latency_ms"]
    ratio, added = r["ratio_rest_to_direct"], r["gateway_added_p50_ms"]
    names = {
        "direct": "psycopg, direct (as the Python worker)",
        "rest": "REST through the gateway (supabase-py/-js path)",
        "postgrest": "REST straight to PostgREST (no gateway)",
    }
    lines = [
        "",
        "## 8. REST: claim + complete through the gateway and PostgREST vs psycopg",
        "",
        f"`bench/rest_overhead.py`, {r['started_at']} UTC (`bench/results/rest/{found[0].name}`): "
        f"{r['clients']} concurrent clients (asyncio, one connection and one executor each), "
        f"{r['seconds']:.0f} s per run, {r['rounds']} rounds in rotating order, medians; "
        f"{r['postgrest_version']} with `db-pool = 10`; load average "
        f"{r['load_average_at_start'][0]:.1f} at start, {r['load_average_at_end'][0]:.1f} at end. "
        "Postgres, PostgREST, the gateway and the clients share the machine's cores.",
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
    return lines


def write_doc(b: Bench, stamp: str, json_name: str, png_name: str | None) -> None:
    r = b.results
    lines = [
        "# Benchmarks",
        "",
        "Collab against its peers on one dedicated local cluster, in the same run, as ratios. "
        "Produced by `bench/run.py` (see `bench/README.md`); do not edit by hand.",
        "",
        f"Run: {stamp} UTC, mode `{'--quick' if b.sizes.quick else 'full'}`, "
        f"{REPEATS} repetitions per figure, medians. Raw figures: `bench/results/{json_name}`.",
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
        "overhead": "5. Overhead: events triggers on vs off (claim+complete jobs/s)",
        "growth": "6. Growth: claim+complete with finished jobs in the table (jobs/s)",
        "soak": "7. Soak",
    }
    for w, rows in r["workloads"].items():
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
    if png_name:
        lines += [
            "",
            "## Plot",
            "",
            f"![throughput by system and growth](../bench/results/{png_name})",
        ]
    DOC.write_text("\n".join(lines) + "\n")


def plot(b: Bench, path: Path) -> bool:
    try:
        plt = plt_module()
    except Exception as exc:  # the plot is optional; the figures are not
        b.skip("plot", f"matplotlib unavailable: {exc}")
        return False
    w = b.results["workloads"]
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes; under 3 minutes")
    parser.add_argument("--only", choices=WORKLOADS, help="run one workload")
    parser.add_argument("--soak", action="store_true", help="add the 10-minute soak")
    parser.add_argument("--soak-seconds", type=int, default=600, help=argparse.SUPPRESS)
    parser.add_argument(
        "--soak-rate", type=float, help="soak rate in jobs/s (default: 80%% of the fed peak)"
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
    )
    chosen = [args.only] if args.only else [w for w in WORKLOADS if w != "soak" or args.soak]
    table: dict[str, Callable[[Bench, dict[str, Any]], None]] = {
        "enqueue": w_enqueue,
        "drain": w_drain,
        "sql": w_sql,
        "wake": w_wake,
        "overhead": w_overhead,
        "growth": w_growth,
        "soak": lambda bb, pp: w_soak(bb, pp, args.soak_seconds, args.soak_rate),
    }
    for w in chosen:
        t_w = time.perf_counter()
        try:
            table[w](b, peers)
        except Exception as exc:  # report and go on: one broken workload must not hide the rest
            b.results["errors"][w] = f"{type(exc).__name__}: {exc}"
            say(f"  error in {w}: {type(exc).__name__}: {exc}")
        b.results.setdefault("workload_seconds", {})[w] = round(time.perf_counter() - t_w, 1)
        say(f"  ({w}: {time.perf_counter() - t_w:.0f} s)")
    if not args.only or args.only in ("sql", "overhead"):
        try:
            profile(b)
        except Exception as exc:
            b.results["errors"]["profile"] = f"{type(exc).__name__}: {exc}"
    b.results["seconds"] = round(time.perf_counter() - started, 1)
    b.results["machine"]["load_average_at_end"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS / f"{stamp}.json"
    png_path = RESULTS / f"{stamp}.png"
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
