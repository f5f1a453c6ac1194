"""procrastinate side of the benchmark, run in its own process with the peer on the path.

Usage: peer_procrastinate.py DSN schema | enqueue-one N [REPS] | enqueue-batch N [REPS] | drain N C (fills N, then times the drain)
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
    out: dict[str, object] = {}
    if MODE == "drain":
        n, concurrency = int(ARGS[0]), int(ARGS[1])
        async_app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=DSN), import_paths=[]
        )

        @async_app.task(name="noop", queue="bench")
        async def noop_async() -> None:
            return None

        with app.open():
            for start in range(0, n, 1000):
                noop.batch_defer(*([{}] * min(1000, n - start)))
        t0 = time.perf_counter()
        async_app.run_worker(queues=["bench"], concurrency=concurrency, wait=False)
        out = {"jobs": n, "seconds": time.perf_counter() - t0}
        print(json.dumps(out))
        return
    with app.open():
        if MODE == "schema":
            app.schema_manager.apply_schema()
        elif MODE == "enqueue-one":
            n, runs = int(ARGS[0]), []
            for _ in range(int(ARGS[1]) if len(ARGS) > 1 else 1):
                t0 = time.perf_counter()
                for _ in range(n):
                    noop.defer()
                runs.append(time.perf_counter() - t0)
            out = {"jobs": n, "runs": runs}
        elif MODE == "enqueue-batch":
            n, runs = int(ARGS[0]), []
            for _ in range(int(ARGS[1]) if len(ARGS) > 1 else 1):
                t0 = time.perf_counter()
                for start in range(0, n, 1000):
                    noop.batch_defer(*([{}] * min(1000, n - start)))
                runs.append(time.perf_counter() - t0)
            out = {"jobs": n, "runs": runs}
    print(json.dumps(out))


main()
