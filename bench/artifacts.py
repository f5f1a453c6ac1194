"""Artifacts and the Edge Functions under load (issue 14), on the benchmark cluster
(bench/.cluster, see bench/README.md), through ``collab stack`` (the real PostgREST 12 and the
gateway) on free ports.

    .venv/bin/python bench/artifacts.py [--clients 32] [--urls 10000] [--rounds 4] [--jobs 1000000]

1. **put**: 1,000 artifacts of 64 KiB and 10 of 20 MiB, each distinct random bytes, one
   client, sequential, through the REST path of Supabase clients (``POST
   /rest/v1/rpc/put_artifact`` with the bytes in base64, a user's JWT): MB/s of artifact bytes
   and p50/p99 per put.
2. **sign + redeem**: ``--urls`` signed URLs of the 64 KiB artifacts (``/rest/v1/rpc/
   sign_artifact``, ``--clients`` concurrent clients), then redeemed by ``--clients``
   concurrent clients (``GET /storage/v1/object/sign/...``, the bytes checked against the
   size), beside the **ceiling**: the same gateway serving the same bytes from local files.
   The ceiling is a second process of the gateway (``collab.gateway``'s app with the stack's
   own gateway.json, on uvicorn with the same settings), to which this script adds one route,
   ``/bench/file/<name>``, answered by Starlette's ``FileResponse``; the product has no such
   route. Rounds alternate the order of the two arms and each round redeems
   ``--urls / --rounds`` URLs and fetches as many files, so both see the same machine load;
   the ratio is of the totals over all rounds.
3. **metrics-overview**: ``GET /functions/v1/metrics-overview`` (gateway, Deno, PostgREST,
   ``api.metrics_overview``), one client, p50/p95/p99, with ``--jobs`` finished jobs in the
   database (inserted by one SQL statement, as the growth workload of bench/run.py does) on top
   of a live workload made through the api (enqueued with ``api.enqueue_batch``, part of it
   claimed and completed, so the window's percentiles are computed over real events), then
   again with ``--jobs`` jobs *queued* (``api.enqueue_batch``, 10,000 per call): a queue that
   deep is counted in full.

Everything runs on one machine: Postgres, PostgREST, the gateway, Deno and the clients share
the cores. Writes bench/results/artifacts/<UTC date-time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collab import stack
from run import RESULTS, ROOT, Bench, Sizes, cpu_by_pid, cpu_spent, pct, say, settle

ARTIFACT_RESULTS = RESULTS / "artifacts"
SMALL, LARGE = 64 * 1024, 20 * 1024 * 1024
MB = 1_000_000
CLIENT_CPU: list[float] = []  # the client's CPU seconds per wall second, per fetch_all
FAILURE = json.dumps({"message": "bench"})


# -- the ceiling: the gateway's app plus one static route, in a process of its own ------------


def serve_ceiling(config: Path, files: Path, port: int) -> None:
    """``python bench/artifacts.py --serve-ceiling gateway.json FILES PORT``: the gateway as
    ``collab.gateway.main`` runs it, with ``/bench/file/<name>`` served from FILES."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import FileResponse, Response
    from starlette.types import Receive, Scope, Send

    from collab.gateway import Gateway, GatewayConfig, Prefixes
    from collab.gateway_dashboard import DashboardConfig

    cfg = GatewayConfig.load(config)
    gateway = Gateway(cfg, DashboardConfig.load(config)).app()

    async def file(scope: Scope, receive: Receive, send: Send) -> None:
        name = Path(scope["path"]).name
        path = files / name
        response: Response = (
            FileResponse(path, media_type="application/octet-stream")
            if path.is_file()
            else Response(status_code=404)
        )
        await response(scope, receive, send)

    async def read(scope: Scope, receive: Receive, send: Send) -> None:
        path = files / Path(scope["path"]).name
        response = (
            Response(path.read_bytes(), media_type="application/octet-stream")
            if path.is_file()
            else Response(status_code=404)
        )
        await response(scope, receive, send)

    del Request
    app = Prefixes({"/bench/file": file, "/bench/read": read}, gateway)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=True,
        proxy_headers=False,
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_ceiling(config: Path, files: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "thin_client")}
    cmd = [sys.executable, __file__, "--serve-ceiling", str(config), str(files), str(port)]
    proc = subprocess.Popen(cmd, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/bench/file/none", timeout=1).status_code == 404:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the ceiling gateway did not start")


# -- where the CPU goes: seconds of each process group, from /proc (Linux) -----------------


def postgres_pids(postmaster: int) -> list[int]:
    found = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


# -- 1. put -------------------------------------------------------------------------------


def put_all(base: str, headers: dict[str, str], sizes: list[int]) -> tuple[list[int], list[float]]:
    """Ids and milliseconds per put, one client, sequential."""
    ids: list[int] = []
    ms: list[float] = []
    with httpx.Client(base_url=base, headers=headers, timeout=300) as http:
        for i, size in enumerate(sizes):
            body = json.dumps(
                {
                    "name": f"bench/{size}/{i}.bin",
                    "data": base64.b64encode(os.urandom(size)).decode(),
                    "media_type": "application/octet-stream",
                }
            )
            t = time.perf_counter()
            answer = http.post("/rpc/put_artifact", content=body)
            ms.append((time.perf_counter() - t) * 1000)
            answer.raise_for_status()
            ids.append(int(answer.json()["id"]))
    return ids, ms


def put_row(ms: list[float], size: int) -> dict[str, Any]:
    seconds = sum(ms) / 1000
    return {
        "count": len(ms),
        "bytes_each": size,
        "mb_per_s": len(ms) * size / MB / seconds,
        "p50_ms": pct(ms, 50),
        "p99_ms": pct(ms, 99),
    }


# -- 2. sign and redeem -------------------------------------------------------------------


async def fetch_all(
    urls: list[str], clients: int, expect: int, headers: dict[str, str] | None = None
) -> tuple[float, list[float], int]:
    """GET every URL with ``clients`` concurrent clients (one keep-alive connection each):
    wall seconds, milliseconds per request, bytes received."""
    queue = list(reversed(urls))
    ms: list[float] = []
    got = [0]

    async def client() -> None:
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as http:
            while queue:
                url = queue.pop()
                t = time.perf_counter()
                async with http.get(url) as answer:
                    body = await answer.read()
                ms.append((time.perf_counter() - t) * 1000)
                if answer.status != 200 or len(body) != expect:
                    raise SystemExit(f"{url}: {answer.status} {body[:200]!r}")
                got[0] += len(body)

    started = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(*(client() for _ in range(clients)))
    seconds = time.perf_counter() - started
    CLIENT_CPU.append((time.process_time() - cpu) / seconds)
    return seconds, ms, got[0]


async def sign_all(
    base: str, headers: dict[str, str], ids: list[int], clients: int
) -> tuple[float, list[float], list[str]]:
    queue = list(reversed(ids))
    ms: list[float] = []
    signed: list[str] = []
    api = base.removesuffix("/rest/v1")

    async def client() -> None:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1), headers=headers
        ) as http:
            while queue:
                artifact = queue.pop()
                t = time.perf_counter()
                async with http.post(
                    f"{base}/rpc/sign_artifact", json={"id": artifact, "expires_in": 3600}
                ) as answer:
                    answer.raise_for_status()
                    doc = await answer.json()
                ms.append((time.perf_counter() - t) * 1000)
                signed.append(f"{api}/storage/v1{doc['signedURL']}")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, ms, signed


def fetch_row(seconds: float, ms: list[float], size: int) -> dict[str, Any]:
    return {
        "requests": len(ms),
        "seconds": seconds,
        "requests_per_s": len(ms) / seconds,
        "mb_per_s": size / MB / seconds,
        "p50_ms": pct(ms, 50),
        "p99_ms": pct(ms, 99),
    }


# -- 3. metrics-overview ------------------------------------------------------------------


def overview_latencies(url: str, token: str, anon: str, n: int) -> list[float]:
    headers = {"authorization": f"Bearer {token}", "apikey": anon}
    ms: list[float] = []
    with httpx.Client(headers=headers, timeout=60) as http:
        for i in range(n + 5):
            t = time.perf_counter()
            answer = http.get(f"{url}/functions/v1/metrics-overview")
            if i >= 5:  # the first warm the connections and the plan cache
                ms.append((time.perf_counter() - t) * 1000)
            answer.raise_for_status()
    return ms


def overview_sql(dsn: str, user: str, workspace: str, n: int) -> list[float]:
    """The same call in SQL, as the user (role authenticated, the JWT's claims), no HTTP."""
    claims = json.dumps({"sub": user, "role": "authenticated", "workspace_id": workspace})
    ms: list[float] = []
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("select set_config('request.jwt.claims', %s, false)", [claims])
        c.execute("set role authenticated")
        for i in range(n + 5):
            t = time.perf_counter()
            c.execute("select api.metrics_overview()").fetchone()
            if i >= 5:
                ms.append((time.perf_counter() - t) * 1000)
    return ms


def fill_finished_jobs(dsn: str, workspace: str, jobs: int) -> int:
    """Add `jobs` succeeded jobs of a day ago to the workspace's history, without their events
    (the history a busy workspace carries); return how many jobs are stored (hot and history).
    Written straight into the default partition (yesterday has no day partition), which fires
    no event trigger: these are no new changes."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(
            "insert into collab.job_history_default (id, workspace_id, queue, type, payload,"
            " priority, status, last_event, run_at, attempt, max_attempts, lease_token,"
            " cancel_requested, created_at, claimed_at, finished_at)"
            " select nextval('collab.jobs_id_seq'), %s, 'q' || (g %% 8), 'noop', '{}', 0,"
            " 'succeeded', 'succeeded', now() - interval '1 day', 1, 3, gen_random_uuid(), false,"
            " now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'"
            " from generate_series(1, %s) g",
            [workspace, jobs],
        )
        row = c.execute(
            "select (select count(*) from collab.jobs) + (select count(*) from collab.job_history)"
        ).fetchone()
    return int(row[0]) if row else 0


def live_workload(dsn: str, workspace: str, jobs: int, completed: int) -> None:
    """``jobs`` enqueued through the api in the workspace, ``completed`` of them claimed and
    completed (events, rollups), a few failed to the DLQ, one executor online."""
    claims = {"role": "service_role", "workspace_id": workspace}
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("select set_config('request.jwt.claims', %s, false)", [json.dumps(claims)])
        for start in range(0, jobs, 10000):
            c.execute(
                "select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object("
                "'queue', 'q' || (g %% 8), 'type', 'noop', 'max_attempts', 1)) "
                "from generate_series(1, %s) g))",
                [min(10000, jobs - start)],
            )
        ex = c.execute("select api.register_executor('bench', array['q0','q1','q2','q3'])")
        executor = ex.fetchone()[0]  # type: ignore[index]
        done = 0
        while done < completed:
            rows = c.execute(
                "select id, lease_token from api.claim(%s, array['q0','q1','q2','q3'], 100, 60)",
                [executor],
            ).fetchall()
            for i, (job, lease) in enumerate(rows):
                if i % 50 == 0:
                    c.execute("select api.fail(%s, %s, %s, false)", [job, lease, FAILURE])
                else:
                    c.execute("select api.complete(%s, %s)", [job, lease])
            done += len(rows)
            if not rows:
                break


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-ceiling":
        serve_ceiling(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--urls", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--overview-calls", type=int, default=200)
    parser.add_argument("--skip", default="", help="comma-separated: put-large,redeem,overview")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    b = Bench(Sizes(quick=True))
    b.start()
    dsn = b.fresh("artifacts_bench", b.collab_template())
    the_stack = stack.Stack(Path(tempfile.mkdtemp(prefix="collab-bench-stack-")))
    state = the_stack.up(dsn, api_port="auto", postgrest_port="auto")
    keys = the_stack.secrets()
    assert keys is not None
    say(f"stack: gateway {state.api_url}, {state.postgrest_version} at {state.postgrest_url}")
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ"),
        "clients": args.clients,
        "postgrest_version": state.postgrest_version,
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "goals": {"redeem_to_ceiling": ">= 0.5 (both ceilings)", "metrics_overview_p95_ms": "< 50"},
    }
    ceiling: subprocess.Popen[bytes] | None = None
    files = Path(tempfile.mkdtemp(prefix="collab-bench-files-"))
    try:
        user = str(uuid.uuid4())
        rest = f"{state.api_url}/rest/v1"
        base_headers = {"apikey": keys.anon_key, "content-type": "application/json"}
        first = {
            **base_headers,
            "authorization": f"Bearer {stack.mint_token(keys.jwt_secret, 'authenticated', sub=user, ttl=7200)}",
        }
        made = httpx.post(
            f"{rest}/rpc/create_workspace",
            json={"name": "bench"},
            headers={**first, "content-profile": "api"},
        )
        made.raise_for_status()
        workspace = str(made.json()["workspace_id"])
        token = stack.mint_token(
            keys.jwt_secret, "authenticated", sub=user, workspace=workspace, ttl=7200
        )
        headers = {
            **base_headers,
            "authorization": f"Bearer {token}",
            "content-profile": "api",
            "accept-profile": "api",
        }

        # 1. put
        say(f"put: {args.small} x 64 KiB")
        small_ids, small_ms = put_all(rest, headers, [SMALL] * args.small)
        result["put_64k"] = put_row(small_ms, SMALL)
        say(f"  {result['put_64k']}")
        if "put-large" not in skip:
            say(f"put: {args.large} x 20 MiB")
            _, large_ms = put_all(rest, headers, [LARGE] * args.large)
            result["put_20m"] = put_row(large_ms, LARGE)
            say(f"  {result['put_20m']}")
        settle(dsn)

        if "redeem" not in skip:
            # 2. sign, then redeem beside the ceiling
            ids = [small_ids[i % len(small_ids)] for i in range(args.urls)]
            sign_s, sign_ms, urls = asyncio.run(sign_all(rest, headers, ids, args.clients))
            result["sign"] = {
                "requests": len(sign_ms),
                "requests_per_s": len(sign_ms) / sign_s,
                "p50_ms": pct(sign_ms, 50),
                "p99_ms": pct(sign_ms, 99),
            }
            say(f"sign: {result['sign']}")
            with psycopg.connect(dsn, autocommit=True) as c:
                for artifact_id, content in c.execute(
                    "select a.id, b.content from collab.artifacts a join collab.artifact_blobs b"
                    " on b.workspace_id = a.workspace_id and b.sha256 = a.sha256 where a.size = %s",
                    [SMALL],
                ):
                    (files / f"{artifact_id}.bin").write_bytes(content)
            ceiling, ceiling_url = start_ceiling(the_stack.dir / "gateway.json", files)
            arm_urls = {
                "redeem": urls,
                "ceiling": [f"{ceiling_url}/bench/file/{i}.bin" for i in ids],
                "ceiling_read": [f"{ceiling_url}/bench/read/{i}.bin" for i in ids],
            }
            per = args.urls // args.rounds
            arms: dict[str, dict[str, Any]] = {
                a: {"seconds": 0.0, "ms": [], "bytes": 0, "rounds": []} for a in arm_urls
            }
            for warm in arm_urls.values():
                asyncio.run(fetch_all(warm[:64], args.clients, SMALL))
            postmaster = int((b.cluster.data / "postmaster.pid").read_text().split()[0])
            pids = the_stack.pids()
            cpu_ms: dict[str, dict[str, float]] = {a: {} for a in arm_urls}
            orders = [("redeem", "ceiling", "ceiling_read"), ("ceiling_read", "redeem", "ceiling"),
                      ("ceiling", "ceiling_read", "redeem")]  # fmt: skip
            for r in range(args.rounds):
                for arm in orders[r % 3]:
                    batch = arm_urls[arm][r * per : (r + 1) * per]
                    groups = {
                        "gateway": [pids["gateway"] or 0] if arm == "redeem" else [ceiling.pid],
                        "postgrest": [pids["postgrest"] or 0],
                        "postgres": postgres_pids(postmaster),
                        "client": [os.getpid()],
                    }
                    before = cpu_by_pid(groups)
                    seconds, ms, got = asyncio.run(fetch_all(batch, args.clients, SMALL))
                    after = cpu_by_pid(groups)
                    for g in groups:
                        spent = cpu_spent(before[g], after[g]) * 1000 / len(ms)
                        cpu_ms[arm][g] = cpu_ms[arm].get(g, 0.0) + spent / args.rounds
                    arms[arm]["seconds"] += seconds
                    arms[arm]["ms"] += ms
                    arms[arm]["bytes"] += got
                    arms[arm]["rounds"].append(got / MB / seconds)
                    say(
                        f"  round {r + 1} {arm:8} {got / MB / seconds:8.1f} MB/s"
                        f"  {len(ms) / seconds:7.0f} req/s  client CPU {CLIENT_CPU[-1]:.2f}"
                    )
            for arm, v in arms.items():
                result[arm] = {
                    **fetch_row(v["seconds"], v["ms"], v["bytes"]),
                    "rounds_mb_per_s": v["rounds"],
                }
            result["cpu_ms_per_request"] = cpu_ms
            say(f"CPU ms per request: {json.dumps(cpu_ms)}")
            for arm in ("ceiling", "ceiling_read"):
                ratio = result["redeem"]["mb_per_s"] / result[arm]["mb_per_s"]
                result[f"redeem_to_{arm}"] = ratio
                say(f"redeem / {arm} = {ratio:.2f} (goal >= 0.5)")
            for arm in arm_urls:
                say(f"{arm} {result[arm]}")

        if "overview" not in skip:
            say("metrics-overview: live workload through the api")
            live_workload(dsn, workspace, 20000, 5000)
            total = fill_finished_jobs(dsn, workspace, args.jobs)
            settle(dsn)
            ms = overview_latencies(state.api_url, token, keys.anon_key, args.overview_calls)
            sql_ms = overview_sql(dsn, user, workspace, args.overview_calls)
            result["overview_finished"] = {
                "jobs": total,
                "calls": len(ms),
                "p50_ms": pct(ms, 50),
                "p95_ms": pct(ms, 95),
                "p99_ms": pct(ms, 99),
                "sql_p50_ms": pct(sql_ms, 50),
                "sql_p95_ms": pct(sql_ms, 95),
            }
            say(f"  {total:,} jobs (mostly finished): {result['overview_finished']}")
    finally:
        if ceiling is not None:
            ceiling.terminate()
            ceiling.wait(10)
        the_stack.down(stop_db=False)
    result["load_average_at_end"] = os.getloadavg()
    ARTIFACT_RESULTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACT_RESULTS / f"{result['started_at']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    say(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
