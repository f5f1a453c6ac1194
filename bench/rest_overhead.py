"""Claim + complete through Supabase's REST path against the same through psycopg, in one run
(issue 13), on the benchmark cluster (bench/.cluster, see bench/README.md).

    .venv/bin/python bench/rest_overhead.py [--clients 32] [--seconds 8] [--rounds 3]

Three ways of running the same cycle (``api.claim`` of one job, then ``api.complete``), each
with ``--clients`` concurrent clients (asyncio, one connection each, one executor each):

- ``direct``: psycopg (async), the statements of ``collab.queries``, as the Python worker;
- ``rest``: HTTP through the gateway (``collab stack``: Starlette/uvicorn in front of the real
  PostgREST 12.0.2), the path of supabase-py/-js (httpx async, keep-alive, the service key);
- ``postgrest``: the same HTTP calls straight to PostgREST, without the gateway.

Rounds alternate the order of the three so a drift (the jobs table filling with finished jobs)
is not charged to one of them; medians of the rounds are reported. Then the latency a gateway
adds: one client, sequential, the same claim and complete calls sent alternately to the gateway
and to PostgREST; p50 and p99 of each and the difference of the p50s.

Everything runs on one machine: Postgres, PostgREST, the gateway and the clients share the
cores, so the REST figure includes the HTTP work of all three processes. Writes
bench/results/rest/<UTC date-time>.json; `bench/run.py` puts the latest one in docs/bench.md
(`.venv/bin/python bench/run.py --render bench/results/<latest full run>.json` refreshes it).
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

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collab import queries, stack
from run import RESULTS, ROOT, Bench, Sizes, fill_collab, pct, say, settle

QUEUE = "bench"
REST_RESULTS = RESULTS / "rest"


def register_executors(dsn: str, n: int) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as c:
        return [
            str(
                c.execute(
                    "select api.register_executor(%s, %s)", [f"rest-{i}", [QUEUE]]
                ).fetchone()[0]
            )  # type: ignore[index]
            for i in range(n)
        ]


def queued(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as c:
        row = c.execute("select count(*) from collab.jobs where status = 'queued'").fetchone()
    return int(row[0]) if row else 0


async def direct_client(dsn: str, executor_id: str, until: float, done: list[int]) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
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


async def rest_client(
    base: str, headers: dict[str, str], executor_id: str, until: float, done: list[int]
) -> None:
    claim = {"executor_id": executor_id, "queues": [QUEUE], "max_jobs": 1, "lease_seconds": 60}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        while time.perf_counter() < until:
            answer = await http.post("/rpc/claim", json=claim)
            answer.raise_for_status()
            jobs = answer.json()
            if not jobs:
                done[1] += 1
                continue
            job = jobs[0]
            completed = await http.post(
                "/rpc/complete", json={"job_id": job["id"], "lease_token": job["lease_token"]}
            )
            completed.raise_for_status()
            done[0] += 1


async def run_mode(
    mode: str,
    dsn: str,
    urls: dict[str, str],
    headers: dict[str, str],
    executors: list[str],
    seconds: float,
) -> tuple[float, int]:
    """Jobs/s of ``mode`` over ``seconds`` with one client per executor, and the empty claims."""
    done = [0, 0]
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    if mode == "direct":
        tasks = [direct_client(dsn, e, until, done) for e in executors]
    else:
        tasks = [rest_client(urls[mode], headers, e, until, done) for e in executors]
    await asyncio.gather(*tasks)
    return done[0] / (time.perf_counter() - started), done[1]


async def latencies(
    urls: dict[str, str], headers: dict[str, str], executor_id: str, cycles: int
) -> dict[str, list[float]]:
    """Milliseconds per request (claim and complete), one client, gateway and PostgREST
    alternately, so both see the same database state and the same machine load."""
    out: dict[str, list[float]] = {"rest": [], "postgrest": []}
    claim = {"executor_id": executor_id, "queues": [QUEUE], "max_jobs": 1, "lease_seconds": 60}
    clients = {m: httpx.AsyncClient(base_url=urls[m], headers=headers, timeout=60) for m in out}
    try:
        for m in out:  # warm: open the keep-alive connections
            (await clients[m].post("/rpc/whoami", json={})).raise_for_status()
        for i in range(cycles):
            for m in ("rest", "postgrest") if i % 2 == 0 else ("postgrest", "rest"):
                t = time.perf_counter()
                answer = await clients[m].post("/rpc/claim", json=claim)
                out[m].append((time.perf_counter() - t) * 1000)
                jobs = answer.json()
                if not jobs:
                    continue
                body = {"job_id": jobs[0]["id"], "lease_token": jobs[0]["lease_token"]}
                t = time.perf_counter()
                (await clients[m].post("/rpc/complete", json=body)).raise_for_status()
                out[m].append((time.perf_counter() - t) * 1000)
    finally:
        for c in clients.values():
            await c.aclose()
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
    urls = {"rest": f"{state.api_url}/rest/v1", "postgrest": state.postgrest_url}
    headers = {
        "apikey": keys.service_role_key,
        "authorization": f"Bearer {keys.service_role_key}",
        "content-profile": "api",
    }
    say(f"stack: gateway {state.api_url}, {state.postgrest_version} at {state.postgrest_url}")
    runs: dict[str, list[float]] = {"direct": [], "rest": [], "postgrest": []}
    empty: dict[str, int] = {m: 0 for m in runs}
    load_start = os.getloadavg()
    try:
        orders = [("direct", "rest", "postgrest"), ("rest", "postgrest", "direct"),
                  ("postgrest", "direct", "rest")]  # fmt: skip
        for r in range(args.rounds):
            for mode in orders[r % 3]:
                if queued(dsn) < 30000:
                    fill_collab(dsn, 40000, QUEUE)
                    settle(dsn)
                rate, dry = asyncio.run(run_mode(mode, dsn, urls, headers, executors, args.seconds))
                runs[mode].append(rate)
                empty[mode] += dry
                say(f"  round {r + 1} {mode:9} {rate:8,.0f} claim+complete/s")
        if queued(dsn) < 5000:
            fill_collab(dsn, 10000, QUEUE)
        lat = asyncio.run(latencies(urls, headers, executors[0], args.latency_cycles))
    finally:
        the_stack.down(stop_db=False)
    medians = {m: statistics.median(v) for m, v in runs.items()}
    p50 = {m: pct(v, 0.5) for m, v in lat.items()}
    p99 = {m: pct(v, 0.99) for m, v in lat.items()}
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ"),
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "runs": runs,
        "medians": medians,
        "empty_claims": empty,
        "ratio_rest_to_direct": medians["rest"] / medians["direct"],
        "ratio_postgrest_to_direct": medians["postgrest"] / medians["direct"],
        "latency_ms": {"p50": p50, "p99": p99, "requests": {m: len(v) for m, v in lat.items()}},
        "gateway_added_p50_ms": p50["rest"] - p50["postgrest"],
        "postgrest_version": state.postgrest_version,
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
    for m in runs:
        say(f"  {m:9} {medians[m]:8,.0f}  (runs: {', '.join(f'{x:,.0f}' for x in runs[m])})")
    say(f"REST / direct = {result['ratio_rest_to_direct']:.2f} (goal >= 0.5)")
    say(
        f"latency p50 gateway {p50['rest']:.2f} ms, PostgREST alone {p50['postgrest']:.2f} ms: "
        f"the gateway adds {result['gateway_added_p50_ms']:.2f} ms (goal <= 1 ms)"
    )
    say(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
