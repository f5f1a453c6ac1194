"""procrastinate side of the benchmark, run in its own process with the peer on the path.

Usage: peer_procrastinate.py DSN schema | enqueue-one N | enqueue-batch N | fill N | drain N C
Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import time

import procrastinate

DSN, MODE, *ARGS = sys.argv[1:]
app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=DSN))


@app.task(name="noop", queue="bench")
def noop() -> None:
    return None


def main() -> None:
    out: dict[str, float] = {}
    if MODE == "drain":
        n, concurrency = int(ARGS[0]), int(ARGS[1])
        async_app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=DSN), import_paths=[]
        )

        @async_app.task(name="noop", queue="bench")
        async def noop_async() -> None:
            return None

        t0 = time.perf_counter()
        async_app.run_worker(queues=["bench"], concurrency=concurrency, wait=False)
        out = {"jobs": n, "seconds": time.perf_counter() - t0}
        print(json.dumps(out))
        return
    with app.open():
        if MODE == "schema":
            app.schema_manager.apply_schema()
        elif MODE == "enqueue-one":
            n = int(ARGS[0])
            t0 = time.perf_counter()
            for _ in range(n):
                noop.defer()
            out = {"jobs": n, "seconds": time.perf_counter() - t0}
        elif MODE in ("enqueue-batch", "fill"):
            n = int(ARGS[0])
            t0 = time.perf_counter()
            for start in range(0, n, 1000):
                noop.batch_defer(*([{}] * min(1000, n - start)))
            out = {"jobs": n, "seconds": time.perf_counter() - t0}
    print(json.dumps(out))


main()
