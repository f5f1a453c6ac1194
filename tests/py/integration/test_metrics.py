"""Metrics against a real database: the scripted scenario committed step by step (so the
per-minute rollups and the live tail both take part), the Prometheus exposition parsed by
prometheus_client and compared with the JSON summary, the rollup horizon under an open
transaction, the CLI and the /metrics server.

Time is moved with the session setting ``collab.clock_offset``, relative to the scenario's
start; steps are hundreds of seconds apart, where the histograms keep whole seconds (3 significant digits), so the few
milliseconds each statement really takes never show and every latency is exact.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from helpers import wait_for
from prometheus_client.parser import text_string_to_metric_families

from collab import Client
from collab.cli import main
from collab.metrics import MetricsServer

COUNTERS = (
    "enqueued",
    "claims",
    "claim_conflicts",
    "lease_expirations",
    "lease_releases",
    "retries",
    "failed",
    "dead",
    "completed",
    "cancelled",
    "requeued",
    "idempotent_duplicates",
    "fencing_rejections",
)


def _at(conn: psycopg.Connection[Any], seconds: int) -> None:
    """Move this session's clock to `seconds` after the scenario's start, whatever the wall
    clock did in between (a summary call may take a while)."""
    conn.execute(
        "select set_config('collab.clock_offset',"
        " (current_setting('metrics_test.start')::timestamptz + make_interval(secs => %s) - now())::text,"
        " false)",
        [seconds],
    )


@pytest.fixture(scope="module")
def scenario(db_url: str) -> dict[str, Any]:
    """10 jobs on queue `mx` (types a, b), claimed at +200 s; at +500 s 3 fail and are retried,
    2 fail for good, 5 succeed; the 3 retries are claimed at +600 s and succeed at +1000 s.
    A summary in the middle rolls up the first part; the rest is read live."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        executor = conn.execute(
            "select api.register_executor('metrics-it', array['mx'])"
        ).fetchone()
        assert executor is not None
        ex = executor[0]
        conn.execute("select set_config('metrics_test.start', now()::text, false)")
        conn.execute(
            "select api.enqueue('mx', case when g <= 5 then 'a' else 'b' end,"
            " jsonb_build_object('g', g), max_attempts => 2) from generate_series(1, 10) g"
        )
        _at(conn, 200)
        first = conn.execute(
            "select id, lease_token, (payload ->> 'g')::int from api.claim(%s, array['mx'], 10)",
            [ex],
        ).fetchall()
        conn.execute("select api.metrics_summary('1h')")  # rolls up what is committed so far
        _at(conn, 500)
        for job_id, token, g in first:
            if g in (1, 2, 3):
                conn.execute(
                    "select api.fail(%s, %s, '{}', retry_in => interval '0')", [job_id, token]
                )
            elif g in (9, 10):
                conn.execute("select api.fail(%s, %s, '{}', retryable => false)", [job_id, token])
            else:
                conn.execute("select api.complete(%s, %s)", [job_id, token])
        _at(conn, 600)
        second = conn.execute(
            "select id, lease_token from api.claim(%s, array['mx'], 10)", [ex]
        ).fetchall()
        _at(conn, 1000)
        for job_id, token in second:
            conn.execute("select api.complete(%s, %s)", [job_id, token])
        row = conn.execute("select api.metrics_summary('1h', 'mx')").fetchone()
        assert row is not None
        summary: dict[str, Any] = row[0]
    return summary


@pytest.fixture
def client(db_url: str) -> Iterator[Client]:
    with Client(db_url, max_size=2) as c:
        yield c


def test_every_counter_of_the_scenario(scenario: dict[str, Any]) -> None:
    assert scenario["totals"]["counters"] == {
        **dict.fromkeys(COUNTERS, 0),
        "enqueued": 10,
        "claims": 13,
        "retries": 3,
        "failed": 5,
        "dead": 2,
        "completed": 8,
    }
    by_type = {r["type"]: r["counters"] for r in scenario["by_queue_type"]}
    assert by_type["a"]["retries"] == 3 and by_type["a"]["completed"] == 5
    assert by_type["b"]["dead"] == 2 and by_type["b"]["completed"] == 3


def test_every_latency_of_the_scenario(scenario: dict[str, Any]) -> None:
    lat = scenario["totals"]["latency"]
    # queue wait: 10 claims 200 s after enqueue, 3 retries claimed 100 s after their run_at
    assert (lat["queue_wait"]["count"], lat["queue_wait"]["sum_seconds"]) == (13, 2300)
    assert (lat["queue_wait"]["p50"], lat["queue_wait"]["p95"], lat["queue_wait"]["p99"]) == (
        200,
        200,
        200,
    )
    # run time: 10 first attempts of 300 s, 3 second attempts of 400 s
    assert (lat["run_time"]["count"], lat["run_time"]["sum_seconds"]) == (13, 4200)
    assert (lat["run_time"]["p50"], lat["run_time"]["p95"], lat["run_time"]["p99"]) == (
        300,
        400,
        400,
    )
    # end to end: 7 finished at 500 s, 3 at 1000 s
    assert (lat["end_to_end"]["count"], lat["end_to_end"]["sum_seconds"]) == (10, 6500)
    assert (lat["end_to_end"]["p50"], lat["end_to_end"]["p95"], lat["end_to_end"]["p99"]) == (
        500,
        1000,
        1000,
    )


def test_gauges_of_the_scenario(scenario: dict[str, Any]) -> None:
    q = scenario["gauges"]["queues"]["mx"]
    assert (q["queued"], q["running"], q["succeeded"], q["dead"]) == (0, 0, 8, 2)
    assert scenario["gauges"]["dlq_size"] == 2


def test_rolled_up_equals_live(db_url: str, scenario: dict[str, Any], client: Client) -> None:
    """Once everything is rolled up, the same window says exactly the same."""

    def rolled_up() -> bool:
        # The reaper rolls up (metrics_summary only reads), up to the cluster's snapshot xmin:
        # a transaction open elsewhere on the server holds it back for a while.
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("select collab.metrics_rollup()")
            row = conn.execute(
                "select count(*) from collab.job_events e, collab.metrics_rollup_state s"
                " where e.queue = 'mx' and e.xid >= s.horizon"
            ).fetchone()
        return row == (0,)

    wait_for(rolled_up, 30, "every event of the scenario is in the rollups")
    again = client.metrics_summary("1h", "mx")
    assert again["totals"] == scenario["totals"]
    assert again["by_queue_type"] == scenario["by_queue_type"]


def test_an_open_transaction_is_counted_once_it_commits(db_url: str, client: Client) -> None:
    """The rollup stops below the oldest open transaction: its events are neither lost nor doubled."""
    before = client.metrics_summary("1h", "horizon")["totals"]["counters"]["enqueued"]
    with psycopg.connect(db_url) as open_tx:
        open_tx.execute("select api.enqueue('horizon', 'h')")
        with psycopg.connect(db_url) as reaper:  # rolls up around the open transaction
            reaper.execute("select collab.reap()")
        during = client.metrics_summary("1h", "horizon")
        assert during["totals"]["counters"]["enqueued"] == before
    after = client.metrics_summary("1h", "horizon")
    assert after["totals"]["counters"]["enqueued"] == before + 1
    assert client.metrics_summary("1h", "horizon")["totals"] == after["totals"]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_prometheus_parses_and_equals_the_summary(scenario: dict[str, Any], client: Client) -> None:
    summary = client.metrics_summary("all")
    samples = _samples(client.metrics_prometheus())
    # Executor presence moves with the wall clock (stale after two missed heartbeats): retry
    # until no gauge changed around the scrape.
    for _ in range(3):
        after = client.metrics_summary("all")
        if after["gauges"] == summary["gauges"]:
            break
        summary = after
        samples = _samples(client.metrics_prometheus())
    assert summary["by_queue_type"], "the scenario is there"
    for r in summary["by_queue_type"]:
        labels = (("queue", r["queue"]), ("type", r["type"]))
        for name in COUNTERS:
            assert samples[(f"collab_jobs_{name}_total", labels)] == r["counters"][name], name
        for phase in ("queue_wait", "run_time", "end_to_end"):
            p = r["latency"][phase]
            assert samples[(f"collab_job_{phase}_seconds_count", labels)] == p["count"]
            assert samples[(f"collab_job_{phase}_seconds_sum", labels)] == pytest.approx(
                p["sum_seconds"]
            )
            for le, count in p["buckets"]:
                bucket = (
                    f"collab_job_{phase}_seconds_bucket",
                    (*labels[:1], ("le", le), *labels[1:]),
                )
                assert samples[(bucket[0], tuple(sorted(bucket[1])))] == count
    for queue, g in summary["gauges"]["queues"].items():
        for state in ("queued", "running", "succeeded", "cancelled", "dead"):
            assert samples[("collab_jobs", (("queue", queue), ("state", state)))] == g[state]
    for state, n in summary["gauges"]["executors"].items():
        assert samples[("collab_executors", (("state", state),))] == n
    assert samples[("collab_dlq_size", ())] == summary["gauges"]["dlq_size"]


def test_cli_json_and_prometheus(db_url: str, scenario: dict[str, Any]) -> None:
    runner = CliRunner()
    env = {"COLLAB_DATABASE_URL": db_url}
    as_json = runner.invoke(main, ["metrics", "--since", "1h", "--queue", "mx", "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["totals"]["counters"] == scenario["totals"]["counters"]
    prom = runner.invoke(main, ["metrics", "--prometheus"], env=env)
    assert prom.exit_code == 0, prom.output
    assert _samples(prom.output)[("collab_jobs_dead_total", (("queue", "mx"), ("type", "b")))] == 2
    table = runner.invoke(main, ["metrics", "--since", "1h", "--queue", "mx"], env=env)
    assert table.exit_code == 0, table.output
    assert "end to end" in table.output and "DLQ: 2" in table.output
    bad = runner.invoke(main, ["metrics", "--since", "yesterday-ish"], env=env)
    assert bad.exit_code == 1 and "since" in bad.output


def test_metrics_server(client: Client, scenario: dict[str, Any]) -> None:
    server = MetricsServer(client, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            samples = _samples(resp.read().decode())
        assert samples[("collab_jobs_completed_total", (("queue", "mx"), ("type", "a")))] == 5
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/nope", timeout=10)
        assert missing.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
