"""Claim + complete through Supabase's REST path against the same through psycopg, in one run
(issue 13), on the benchmark cluster (bench/.cluster, see bench/README.md).

    .venv/bin/python bench/rest_overhead.py [--clients 32] [--seconds 8] [--rounds 3]

Three ways of running the same cycle (``api.claim`` of one job, then ``api.complete``), each
with ``--clients`` concurrent clients (one connection each, one executor each):

- ``direct``: psycopg (async), the statements of ``collab.queries``, as the Python worker;
- ``rest``: HTTP through the stack's API URL, ``/rest/v1`` (``collab stack``: nginx in front of
  the real PostgREST 12.0.2, ``collab.stack_nginx``) with the service key, as supabase-py/-js
  call it (keep-alive, JSON bodies);
- ``postgrest``: the same HTTP calls straight to PostgREST, without the gateway.

The load generator is one process on one uvloop event loop for all three arms; the HTTP arms
share one aiohttp client (its parser is C): httpx, supabase-py's client, spent about 3.7 ms of
CPU per request on this 2-core machine, more than PostgREST and the gateway together, so it
measured itself. Rounds rotate the order of the three, so a drift (the jobs table filling with
finished jobs, another program's load) is not charged to one of them; medians of the rounds,
and the ratios of those medians, are reported.

Every arm also records the CPU time that each process spent per cycle: the load generator
itself, the gateway (nginx's master and worker, and the Python gateway behind it), PostgREST
and Postgres (the postmaster and all its backends), from /proc. Everything runs on one machine, so on a machine whose cores are all busy the rates
are in the ratio of those sums; ``cores_busy`` says how many cores the four used.

Then the latency a gateway adds: one client, sequential, the same claim and complete calls
sent in turn (rotating order) to the API URL (nginx), to PostgREST, and to the Python gateway's
own /rest/v1 on its internal port (what served the API URL before nginx did, for comparison in
the same run); p50 and p99 of each and the difference of the p50s to PostgREST's. Writes bench/results/rest/<UTC date-time>.json; `bench/run.py` puts the latest one
in docs/bench.md (`.venv/bin/python bench/run.py --render bench/results/<latest full run>.json`
refreshes it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collab import queries, stack
from run import RESULTS, ROOT, Bench, Sizes, fill_collab, pct, say, settle

QUEUE = "bench"
REST_RESULTS = RESULTS / "rest"
MODES = ("direct", "rest", "postgrest")
PROCESSES = ("client", "gateway", "postgrest", "postgres")
TICK = os.sysconf("SC_CLK_TCK")


def register_executors(dsn: str, n: int) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as c:
        made = []
        for i in range(n):
            row = c.execute(
                "select api.register_executor(%s, %s)", [f"rest-{i}", [QUEUE]]
            ).fetchone()
            assert row is not None
            made.append(str(row[0]))
        return made


def queued(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as c:
        row = c.execute("select count(*) from collab.jobs where status = 'queued'").fetchone()
    return int(row[0]) if row else 0


# -- CPU per process ----------------------------------------------------------------------------
def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid``, 0 when it is gone."""
    try:
        f = _stat(pid)
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12])) / TICK


def _backends(postmaster: int, database: str) -> list[int]:
    """The postmaster's processes that work for ``database`` (its backends, whose title names
    it), and the WAL writer that their commits wake; not other databases' backends, which
    other benchmarks may be running on the same cluster."""
    marker = f" {database} ".encode()
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) != postmaster:
                    continue
                title = Path(f"/proc/{entry}/cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            if marker in title or title.startswith(b"postgres: walwriter"):
                out.append(int(entry))
    return out


def _children(parent: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) == parent:
                    out.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return out


class CpuMeter:
    """CPU seconds used so far by the load generator (this process), the gateway (nginx's master
    and worker, ``nginx``, and the Python gateway, ``python``; ``gateway`` is their sum),
    PostgREST and Postgres (the backends of the benchmark's database and the WAL writer).
    Connections are opened before the first sample and closed after the second, so no
    backend's time is lost."""

    def __init__(
        self, nginx: int, gateway: int, postgrest: int, postmaster: int, database: str
    ) -> None:
        self.nginx = [nginx, *_children(nginx)]  # the master and its worker, started already
        self.pids = {"python": gateway, "postgrest": postgrest}
        self.postmaster = postmaster
        self.database = database

    def sample(self) -> dict[str, float]:
        times = os.times()
        out = {"client": times.user + times.system}
        out.update({name: _cpu_seconds(pid) for name, pid in self.pids.items()})
        out["nginx"] = sum(_cpu_seconds(pid) for pid in self.nginx)
        out["gateway"] = out["nginx"] + out["python"]
        out["postgres"] = sum(
            _cpu_seconds(pid) for pid in _backends(self.postmaster, self.database)
        )
        return out


# -- the three clients --------------------------------------------------------------------------
async def direct_client(
    conn: psycopg.AsyncConnection[Any], executor_id: str, until: float, done: list[int]
) -> None:
    claim = {"executor_id": executor_id, "queues": [QUEUE], "max_jobs": 1, "lease_seconds": 60}
    while time.perf_counter() < until:
        cur = await conn.execute(queries.CLAIM, claim)
        job = await cur.fetchone()
        if job is None:
            done[1] += 1
            continue
        row = dict(zip([d.name for d in cur.description or []], job, strict=True))
        await conn.execute(
            queries.COMPLETE,
            {"job_id": row["id"], "lease_token": row["lease_token"], "result": None},
        )
        done[0] += 1


async def _post(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], body: dict[str, Any]
) -> Any:
    async with http.post(url, data=json.dumps(body), headers=headers) as answer:
        content = await answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{url}: HTTP {answer.status}: {content[:300]!r}")
        return json.loads(content)


async def rest_client(
    http: aiohttp.ClientSession,
    base: str,
    headers: dict[str, str],
    executor_id: str,
    until: float,
    done: list[int],
) -> None:
    claim = {"executor_id": executor_id, "queues": [QUEUE], "max_jobs": 1, "lease_seconds": 60}
    while time.perf_counter() < until:
        jobs = await _post(http, f"{base}/rpc/claim", headers, claim)
        if not jobs:
            done[1] += 1
            continue
        job = jobs[0]
        body = {"job_id": job["id"], "lease_token": job["lease_token"]}
        await _post(http, f"{base}/rpc/complete", headers, body)
        done[0] += 1


def http_session(clients: int) -> aiohttp.ClientSession:
    """One keep-alive connection per client, no cookies, nothing added to the requests."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=clients),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=60),
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )


async def run_mode(
    mode: str,
    dsn: str,
    urls: dict[str, str],
    headers: dict[str, str],
    executors: list[str],
    seconds: float,
    meter: CpuMeter,
) -> dict[str, Any]:
    """Claim+complete cycles/s of ``mode`` over ``seconds`` with one client per executor, the
    empty claims, and the CPU milliseconds each process spent per cycle."""
    done = [0, 0]
    conns: list[psycopg.AsyncConnection[Any]] = []
    async with http_session(len(executors)) as http:
        # open the connections (and keep-alive ones) before the clock starts
        if mode == "direct":
            conns = [await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in executors]
        else:
            await asyncio.gather(
                *(_post(http, f"{urls[mode]}/rpc/whoami", headers, {}) for _ in executors)
            )
        before = meter.sample()
        started = time.perf_counter()
        until = started + seconds
        if mode == "direct":
            await asyncio.gather(
                *(direct_client(c, e, until, done) for c, e in zip(conns, executors, strict=True))
            )
        else:
            await asyncio.gather(
                *(rest_client(http, urls[mode], headers, e, until, done) for e in executors)
            )
        elapsed = time.perf_counter() - started
        after = meter.sample()
        for c in conns:
            await c.close()
    cycles = max(done[0], 1)
    cpu = {p: (after[p] - before[p]) * 1000 / cycles for p in PROCESSES}
    busy = sum(after[p] - before[p] for p in PROCESSES) / elapsed
    return {"rate": done[0] / elapsed, "empty": done[1], "cpu_ms_per_cycle": cpu, "busy": busy}


LATENCY_ARMS = ("rest", "postgrest", "python")


async def latencies(
    urls: dict[str, str], headers: dict[str, str], executor_id: str, cycles: int
) -> dict[str, list[float]]:
    """Milliseconds per request (claim and complete), one client, the API URL (nginx),
    PostgREST and the Python gateway in turn (the order rotating), so all see the same database
    state and the same machine load."""
    out: dict[str, list[float]] = {m: [] for m in LATENCY_ARMS}
    claim = {"executor_id": executor_id, "queues": [QUEUE], "max_jobs": 1, "lease_seconds": 60}
    async with http_session(len(out)) as http:
        for m in out:  # warm: open the keep-alive connections
            await _post(http, f"{urls[m]}/rpc/whoami", headers, {})
        for i in range(cycles):
            turn = i % len(LATENCY_ARMS)
            for m in LATENCY_ARMS[turn:] + LATENCY_ARMS[:turn]:
                t = time.perf_counter()
                jobs = await _post(http, f"{urls[m]}/rpc/claim", headers, claim)
                out[m].append((time.perf_counter() - t) * 1000)
                if not jobs:
                    continue
                body = {"job_id": jobs[0]["id"], "lease_token": jobs[0]["lease_token"]}
                t = time.perf_counter()
                await _post(http, f"{urls[m]}/rpc/complete", headers, body)
                out[m].append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-cycles", type=int, default=1000)
    args = parser.parse_args()

    b = Bench(Sizes(quick=True))
    b.start()
    dsn = b.fresh("rest_overhead", b.collab_template())
    say("filling 60,000 jobs")
    fill_collab(dsn, 60000, QUEUE)
    settle(dsn)
    executors = register_executors(dsn, args.clients)
    the_stack = stack.Stack(Path(tempfile.mkdtemp(prefix="collab-bench-stack-")))
    state = the_stack.up(dsn, api_port="auto", postgrest_port="auto")
    keys = the_stack.secrets()
    assert keys is not None
    pids = the_stack.pids()
    postmaster = b.cluster.status().pid
    assert pids["nginx"] and pids["gateway"] and pids["postgrest"] and postmaster
    meter = CpuMeter(pids["nginx"], pids["gateway"], pids["postgrest"], postmaster, "rest_overhead")
    urls = {
        "rest": f"{state.api_url}/rest/v1",
        "postgrest": state.postgrest_url,
        "python": f"http://{stack.HOST}:{state.gateway_port}/rest/v1",
    }
    headers = {
        "apikey": keys.service_role_key,
        "authorization": f"Bearer {keys.service_role_key}",
        "content-profile": "api",
        "content-type": "application/json",
    }
    say(
        f"stack: {state.nginx_version} at {state.api_url} (the Python gateway behind it at "
        f"{urls['python']}), {state.postgrest_version} at {state.postgrest_url}"
    )
    runs: dict[str, list[float]] = {m: [] for m in MODES}
    cpu_runs: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
    busy: dict[str, list[float]] = {m: [] for m in MODES}
    empty: dict[str, int] = {m: 0 for m in MODES}
    load_start = os.getloadavg()
    try:
        orders = [("direct", "rest", "postgrest"), ("rest", "postgrest", "direct"),
                  ("postgrest", "direct", "rest")]  # fmt: skip
        for r in range(args.rounds):
            for mode in orders[r % 3]:
                if queued(dsn) < 30000:
                    fill_collab(dsn, 40000, QUEUE)
                    settle(dsn)
                got = uvloop.run(run_mode(mode, dsn, urls, headers, executors, args.seconds, meter))
                runs[mode].append(got["rate"])
                cpu_runs[mode].append(got["cpu_ms_per_cycle"])
                busy[mode].append(got["busy"])
                empty[mode] += got["empty"]
                shown = " ".join(f"{p} {got['cpu_ms_per_cycle'][p]:.2f}" for p in PROCESSES)
                say(
                    f"  round {r + 1} {mode:9} {got['rate']:8,.0f} claim+complete/s"
                    f"   CPU ms/cycle: {shown}   cores busy {got['busy']:.2f}"
                )
        if queued(dsn) < 5000:
            fill_collab(dsn, 10000, QUEUE)
        before = meter.sample()
        lat = uvloop.run(latencies(urls, headers, executors[0], args.latency_cycles))
        after = meter.sample()
    finally:
        the_stack.down(stop_db=False)
    medians = {m: statistics.median(v) for m, v in runs.items()}
    cpu = {m: {p: statistics.median(c[p] for c in cpu_runs[m]) for p in PROCESSES} for m in MODES}
    cpu_total = {m: sum(cpu[m].values()) for m in MODES}
    p50 = {m: pct(v, 50) for m, v in lat.items()}
    # what the gateway itself spends per request, whatever the machine's load does to the
    # latencies: on an idle machine the added latency is about this plus two loopback hops.
    # nginx serves the API URL's requests, the Python gateway only its own arm's.
    gateway_cpu = (after["nginx"] - before["nginx"]) * 1000 / max(len(lat["rest"]), 1)
    python_cpu = (after["python"] - before["python"]) * 1000 / max(len(lat["python"]), 1)
    p99 = {m: pct(v, 99) for m, v in lat.items()}
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ"),
        "command": "bench/rest_overhead.py " + " ".join(sys.argv[1:]),
        "client": "aiohttp (HTTP arms) and psycopg (direct), one process, uvloop",
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "runs": runs,
        "medians": medians,
        "empty_claims": empty,
        "ratio_rest_to_direct": medians["rest"] / medians["direct"],
        "ratio_postgrest_to_direct": medians["postgrest"] / medians["direct"],
        "cpu_ms_per_cycle": cpu,
        "cpu_ms_per_cycle_runs": cpu_runs,
        "cpu_ms_per_cycle_total": cpu_total,
        # what the rates would be in the ratio of if every arm saturated the same cores
        "cpu_bound_ratio_rest_to_direct": cpu_total["direct"] / cpu_total["rest"],
        "cores_busy": {m: statistics.median(v) for m, v in busy.items()},
        "latency_ms": {"p50": p50, "p99": p99, "requests": {m: len(v) for m, v in lat.items()}},
        "gateway_added_p50_ms": p50["rest"] - p50["postgrest"],
        "gateway_cpu_ms_per_request": gateway_cpu,
        # the same run, through the Python gateway's own /rest/v1 (its internal port)
        "python_gateway_added_p50_ms": p50["python"] - p50["postgrest"],
        "python_gateway_cpu_ms_per_request": python_cpu,
        "front": f"{state.nginx_version} (collab.stack_nginx), the Python gateway behind it",
        "postgrest_version": state.postgrest_version,
        "postgrest_rts": stack.postgrest_rts_options(),
        "cores": os.cpu_count(),
        "load_average_at_start": load_start,
        "load_average_at_end": os.getloadavg(),
        "goals": {"ratio_rest_to_direct": ">= 0.5", "gateway_added_p50_ms": "<= 1"},
    }
    REST_RESULTS.mkdir(parents=True, exist_ok=True)
    path = REST_RESULTS / f"{result['started_at']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    say("")
    say(f"claim+complete/s, {args.clients} clients, medians of {args.rounds} rounds:")
    for m in MODES:
        shown = " ".join(f"{p} {cpu[m][p]:.2f}" for p in PROCESSES)
        say(
            f"  {m:9} {medians[m]:8,.0f}  (runs: {', '.join(f'{x:,.0f}' for x in runs[m])})"
            f"   CPU ms/cycle {cpu_total[m]:.2f}: {shown}"
        )
    say(
        f"REST / direct = {result['ratio_rest_to_direct']:.2f} (goal >= 0.5); "
        f"in CPU per cycle {result['cpu_bound_ratio_rest_to_direct']:.2f}"
    )
    say(
        f"latency p50 through the API URL (nginx) {p50['rest']:.2f} ms, PostgREST alone "
        f"{p50['postgrest']:.2f} ms: the gateway adds {result['gateway_added_p50_ms']:.2f} ms "
        f"(goal <= 1 ms); p99 {p99['rest']:.2f} vs {p99['postgrest']:.2f} ms; "
        f"nginx's own CPU {gateway_cpu:.2f} ms per request"
    )
    say(
        f"  for comparison, the Python gateway's /rest/v1 in the same run: p50 "
        f"{p50['python']:.2f} ms, +{result['python_gateway_added_p50_ms']:.2f} ms over "
        f"PostgREST, p99 {p99['python']:.2f} ms, its own CPU {python_cpu:.2f} ms per request"
    )
    say(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
