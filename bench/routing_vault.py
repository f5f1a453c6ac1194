"""Latency of ``api.rank_routes`` and of a vault read (issue 15).

Usage: ``python bench/routing_vault.py [--calls 1000]``

On the embedded cluster (or ``COLLAB_DATABASE_URL``'s server, superuser) it makes a scratch
database ``collab_bench_routing``, migrates it, installs the vault's master key, and measures
from client connections (autocommit: every call is its own transaction and commit,
``synchronous_commit=on`` unless said), with the service role acting in one workspace:

* ``rank_routes``: service ``chat`` with 20 routes (10 with a vault key, verified on every
  ranking in production mode) and 10^5 outcome rows spread over the hour before the run
  (5,000 per route, about 1,700 in the last minute) with their 10-second counters as four
  pooled connections would have written them; each call ranks and writes its snapshot;
* vault read + verify + audit: ``api.read_secret`` of a 51-character key (decrypt, MAC and
  checksum checks, one audit row, commit).

The arms are interleaved (blocks of 20 calls in turn) so that they share the machine's load:

* ``floor``: a trivial ``INSERT`` and its commit (the WAL flush every writing call pays);
* ``rank_routes``: the ranking and its snapshot, committed;
* ``rank_routes, synchronous_commit=off``: the same call with the session's commit not
  waiting for the flush (what remains without it);
* ``read_secret``: read + verify + audit, committed.

Prints p50/p95/p99 in ms of the client round trip, each p50/p95 as a ratio to the floor's,
and the in-database time per call (``pg_stat_statements`` mean execution time of the call,
without the commit). Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg

from collab import embedded, migrate
from collab.vault import install_master_key

NAME = "collab_bench_routing"


def server_url() -> str:
    configured = os.environ.get("COLLAB_DATABASE_URL")
    if configured:
        return configured
    cluster = embedded.EmbeddedPostgres()
    cluster.start()
    return cluster.url()


def prepare() -> str:
    server = server_url()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"drop database if exists {NAME} with (force)")
        conn.execute(f"create database {NAME}")
    db = urlunsplit(urlsplit(server)._replace(path="/" + NAME))
    migrate.up(db)
    install_master_key(db)
    with psycopg.connect(db, autocommit=True) as conn:
        ws = conn.execute("select (api.create_workspace('bench') ->> 'workspace_id')").fetchone()
        assert ws is not None
        claims = '{"role": "service_role", "workspace_id": "' + str(ws[0]) + '"}'
        conn.execute("select set_config('request.jwt.claims', %s, false)", [claims])
        conn.execute("select api.put_secret('provider-key', %s)", ["sk-" + "x" * 48])
        for i in range(20):
            conn.execute(
                "select api.put_route('chat', %s, 'p', 'm', null, %s, %s, secret_name => %s)",
                (f"r{i:02d}", 1 + i % 5, 2 + i % 5, "provider-key" if i % 2 else None),
            )
        conn.execute("select api.rank_routes('chat')")
        conn.execute(
            """insert into collab.route_outcomes (workspace_id, service, route, snapshot_id,
                 status, ok, latency_ms, input_tokens, output_tokens, created_at)
               select %s, 'chat', format('r%%s', lpad((g %% 20)::text, 2, '0')), 1,
                      case when g %% 50 = 0 then 503 else 200 end, g %% 50 <> 0,
                      100 + (g %% 20) * 10 + random() * 20, 100, 50,
                      now() - (g * interval '36 milliseconds')
                 from generate_series(1, 100000) g""",
            [ws[0]],
        )
        # the counters api.record_route_outcome keeps, as four pooled connections would
        conn.execute(
            """insert into collab.route_counters (workspace_id, service, bucket, route, writer,
                 calls, failures, tokens)
               select workspace_id, service, to_timestamp(floor(extract(epoch from created_at) / 10) * 10),
                      route, (id % 4)::integer, count(*),
                      count(*) filter (where not ok and status not in (400, 413, 422)),
                      sum(input_tokens + output_tokens)
                 from collab.route_outcomes group by 1, 2, 3, 4, 5"""
        )
        conn.execute("analyze collab.route_outcomes")
        conn.execute("analyze collab.route_counters")
    return db + "?options=" + "-c%20request.jwt.claims%3D" + claims.replace(" ", "")


RANK = "select api.rank_routes('chat', '{\"input_tokens\": 500}')"
READ = "select api.read_secret('provider-key')"
FLOOR = "insert into bench_floor default values returning id"


def report(name: str, ms: list[float], floor: list[float] | None) -> None:
    q = statistics.quantiles(sorted(ms), n=100)
    line = f"{name}: n={len(ms)} p50={q[49]:.2f} ms p95={q[94]:.2f} ms p99={q[98]:.2f} ms"
    if floor is not None:
        f = statistics.quantiles(sorted(floor), n=100)
        line += f" (x{q[49] / f[49]:.2f} / x{q[94] / f[94]:.2f} the floor's p50 / p95)"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    db = prepare()
    base, _, _ = db.partition("?")
    with (
        psycopg.connect(base, autocommit=True) as conn,
        psycopg.connect(base, autocommit=True) as nosync,
    ):
        ws = conn.execute("select id from collab.workspaces where name = 'bench'").fetchone()
        assert ws is not None
        claims = '{"role": "service_role", "workspace_id": "' + str(ws[0]) + '"}'
        for c in (conn, nosync):
            c.execute("select set_config('request.jwt.claims', %s, false)", [claims])
        nosync.execute("set synchronous_commit = off")
        conn.execute(
            "create table if not exists bench_floor (id bigint generated always as identity)"
        )
        conn.execute("create extension if not exists pg_stat_statements")
        arms: list[tuple[str, psycopg.Connection[tuple[object, ...]], str]] = [
            ("floor: insert + commit", conn, FLOOR),
            ("rank_routes (20 routes, 10^5 outcomes)", conn, RANK),
            ("rank_routes, synchronous_commit=off", nosync, RANK),
            ("read_secret (decrypt + verify + audit)", conn, READ),
        ]
        for _, c, sql in arms:  # warm-up
            for _ in range(30):
                c.execute(sql).fetchall()
        conn.execute("select pg_stat_statements_reset()")
        times: dict[str, list[float]] = {name: [] for name, _, _ in arms}
        for _ in range(max(1, args.calls // 20)):
            for name, c, sql in arms:
                for _ in range(20):
                    t = time.perf_counter()
                    c.execute(sql).fetchall()
                    times[name].append((time.perf_counter() - t) * 1000)
        floor = times[arms[0][0]]
        for name, _, _ in arms:
            report(name, times[name], None if name == arms[0][0] else floor)
        for label, fn in (("rank_routes", "api.rank_routes"), ("read_secret", "api.read_secret")):
            row = conn.execute(
                "select sum(total_exec_time) / sum(calls) from pg_stat_statements"
                " where dbid = (select oid from pg_database where datname = current_database())"
                " and toplevel and query like %s",
                [f"select {fn}(%"],
            ).fetchone()
            assert row is not None and row[0] is not None
            print(f"{label}: in-database {float(row[0]):.3f} ms per call (pg_stat_statements)")


if __name__ == "__main__":
    main()
