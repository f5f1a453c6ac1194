"""awa-pg side of the benchmark, run in its own process with the peer on the path.

Usage: peer_awa.py DSN migrate | enqueue-one N [REPS] | enqueue-batch N [REPS] | drain N C (fills N, then times the drain)
Prints one JSON object on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass

import awa
import psycopg

DSN, MODE, *ARGS = sys.argv[1:]


@dataclass
class Noop:
    n: int = 0


async def main() -> None:
    client = awa.AsyncClient(DSN)
    out: dict[str, object] = {}
    try:
        if MODE == "migrate":
            await client.migrate()
        elif MODE == "enqueue-one":
            n, runs = int(ARGS[0]), []
            for _ in range(int(ARGS[1]) if len(ARGS) > 1 else 1):
                t0 = time.perf_counter()
                for _ in range(n):
                    await client.insert(Noop(), queue="bench")
                runs.append(time.perf_counter() - t0)
            out = {"jobs": n, "runs": runs}
        elif MODE == "enqueue-batch":
            n, runs = int(ARGS[0]), []
            for _ in range(int(ARGS[1]) if len(ARGS) > 1 else 1):
                t0 = time.perf_counter()
                for start in range(0, n, 1000):
                    await client.insert_many_copy([Noop()] * min(1000, n - start), queue="bench")
                runs.append(time.perf_counter() - t0)
            out = {"jobs": n, "runs": runs}
        elif MODE == "drain":
            n, concurrency = int(ARGS[0]), int(ARGS[1])

            handled = 0

            @client.task(Noop, queue="bench")
            async def handle(job: object) -> None:
                nonlocal handled
                handled += 1

            for start in range(0, n, 1000):
                await client.insert_many_copy([Noop()] * min(1000, n - start), queue="bench")
            t0 = time.perf_counter()
            await client.start([("bench", concurrency)], poll_interval_ms=50)
            deadline = t0 + 600
            # Done when every job is completed in the table, counted only once every handler
            # has run: counted every 5 ms from the start, the harness's own scans would take
            # the server's time from the peer it measures (as graphile-worker's did).
            sql = "select count(*) from awa.jobs where state = 'completed'"
            async with await psycopg.AsyncConnection.connect(DSN, autocommit=True) as conn:
                while time.perf_counter() < deadline:
                    if handled >= n:
                        row = await (await conn.execute(sql)).fetchone()
                        if row and row[0] >= n:
                            break
                    await asyncio.sleep(0.005)
            out = {"jobs": n, "seconds": time.perf_counter() - t0}
            await client.shutdown()
    finally:
        await client.close()
    print(json.dumps(out))


asyncio.run(main())
