"""The bench's "contract's bare writes" rows (bench/run.py, build_contract and the contract1,
contract10 and contract_cycle2 scripts) and the bounds beside them on Collab's own tables (the
rules-free row, Collab's api with no worker) do what they stand for: each claim leases a queued
job with a fresh token and writes its event, each completion moves exactly the claimed job,
under that token, to the history and writes its event. The bare rows bound what any
implementation of the contract can reach against the SKIP LOCKED cycle, pgmq and the 4-way
row's peers on this machine, and the rows on Collab's tables tell which layer a gap is in
(docs/bench.md, sections 2 and 3), so a script that skipped a write would make those readings a
lie. Run through pgbench itself, as the bench does."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from helpers import load_module, pg_bin, wait_for
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parents[3]


def bench_module() -> Any:
    return load_module("collab_bench_run", ROOT / "bench" / "run.py")


@contextlib.contextmanager
def pgbench_started(
    url: str, script: str, transactions: int, *defines: str, clients: int = 1
) -> Iterator[subprocess.Popen[str]]:
    """pgbench running script (clients clients, transactions each) while the block runs; its
    script file lasts until pgbench has ended, which the block's end waits for."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as f:
        f.write(script)
        f.flush()
        options = [x for d in defines for x in ("-D", d)]
        command = [pg_bin("pgbench"), "-n", "-c", str(clients), "-t", str(transactions)]
        proc = subprocess.Popen(
            [*command, *options, "-f", f.name, url],
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
        )
        try:
            yield proc
        finally:
            proc.wait(timeout=120)


def pgbench(url: str, script: str, transactions: int, *defines: str) -> None:
    with pgbench_started(url, script, transactions, *defines) as proc:
        out, err = proc.communicate(timeout=120)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, out, err)


def contract_with_jobs(url: str, n: int) -> Any:
    """build_contract in url with n queued jobs of queue bench and one of queue other; the
    bench module."""
    run = bench_module()
    run.build_contract(url)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "insert into contract_jobs (queue, payload)"
            " select 'bench', jsonb_build_object('n', n) from generate_series(1, %s) n",
            [n],
        )
        c.execute("insert into contract_jobs (queue, payload) values ('other', '{}')")
    return run


def test_contract_scripts_write_what_the_contract_needs(fresh_db: str) -> None:
    run = contract_with_jobs(fresh_db, 30)

    pgbench(fresh_db, run.SCRIPTS["contract1"], 3)
    pgbench(fresh_db, run.SCRIPTS["contract10"], 2)

    with psycopg.connect(fresh_db, autocommit=True) as c:
        history = c.execute(
            "select id, queue, attempt, lease_token from contract_history order by id"
        ).fetchall()
        # One job per claim of one, ten per claim of ten, the oldest first, of queue bench only.
        assert [h[0] for h in history] == list(range(1, 24))
        assert {h[1] for h in history} == {"bench"}
        assert {h[2] for h in history} == {1}
        assert len({h[3] for h in history}) == 23, "each claim gave a fresh token"
        events = c.execute(
            "select type, count(*), count(distinct job_id) from contract_events group by type"
            " order by type"
        ).fetchall()
        assert events == [("claimed", 23, 23), ("succeeded", 23, 23)]
        left = c.execute(
            "select status, count(*) from contract_jobs group by status order by status"
        ).fetchall()
        assert left == [("queued", 8)], "nothing left leased, nothing else removed"
        # The reading the bench takes: finished and still claimable.
        assert c.execute(run.DONE_SQL["contract"]).fetchone() == (23,)
        assert c.execute(run.LEFT_SQL["contract"]).fetchone() == (8,)


def test_the_rules_free_row_claims_and_completes_through_pgbench(own_db: str) -> None:
    """The SQL row of Collab without the api's rules (RULES_FREE_ROW): its script claims one job
    a transaction through public.ladder_claim and completes it under its token, with the
    cycle's two events, and the bench's readings count it."""
    run = bench_module()
    run.ladder_functions(own_db)
    run.fill_collab(own_db, 6)
    ex = run.executor(own_db)
    ws = run.workspace_of(own_db, ex)

    pgbench(own_db, run.SCRIPTS["collab_ladder1"], 4, f"exec={ex}", f"ws={ws}")

    with psycopg.connect(own_db, autocommit=True) as c:
        assert c.execute(
            "select count(*), count(distinct lease_token), min(attempt), max(attempt)"
            " from collab.job_history where status = 'succeeded'"
        ).fetchone() == (4, 4, 1, 1)
        assert c.execute(
            "select type::text, count(*) from collab.job_events where job_id is not null"
            " group by 1 order by 1"
        ).fetchall() == [("claimed", 4), ("enqueued", 6), ("succeeded", 4)]
        assert c.execute(run.DONE_SQL["collab"]).fetchone() == (4,)
        assert c.execute(run.LEFT_SQL["collab"]).fetchone() == (2,)


def test_contract_cycle_completes_what_it_claimed_and_claims_in_one_transaction(
    fresh_db: str,
) -> None:
    """The 4-way row's bound (section 2): each transaction completes, under their tokens, the 2
    jobs the client claimed in its previous one and claims 2 more, with an event for every
    change. After n transactions: 2(n-1) jobs finished, the last 2 still leased."""
    run = contract_with_jobs(fresh_db, 20)

    pgbench(fresh_db, run.SCRIPTS["contract_cycle2"], 6, "ids={}", "toks={}")

    with psycopg.connect(fresh_db, autocommit=True) as c:
        history = c.execute(
            "select id, queue, attempt, lease_token from contract_history order by id"
        ).fetchall()
        assert [h[0] for h in history] == list(range(1, 11))
        assert {(h[1], h[2]) for h in history} == {("bench", 1)}
        assert len({h[3] for h in history}) == 10, "each claim gave a fresh token"
        running = c.execute(
            "select id, attempt, lease_token is not null from contract_jobs"
            " where status = 'running' order by id"
        ).fetchall()
        assert running == [(11, 1, True), (12, 1, True)], "the last claim, not yet completed"
        events = c.execute(
            "select type, count(*), count(distinct job_id) from contract_events group by type"
            " order by type"
        ).fetchall()
        assert events == [("claimed", 12, 12), ("succeeded", 10, 10)]
        assert c.execute(run.DONE_SQL["contract"]).fetchone() == (10,)
        assert c.execute(run.LEFT_SQL["contract"]).fetchone() == (9,)  # 8 and 'other'
        assert c.execute(
            "select count(*) from contract_jobs where queue = 'other'"
            " and status = 'queued' and attempt = 0"
        ).fetchone() == (1,)


def test_collab_api_cycle_completes_what_it_claimed_and_claims_in_one_transaction(
    own_db: str,
) -> None:
    """The 4-way row of Collab's api with no worker (section 2): each transaction completes,
    through api.complete_batch under their tokens, the 4 jobs the client claimed through
    api.claim in its previous one and claims 4 more, each change with its event. After n
    transactions: 4(n-1) jobs finished, the last 4 still leased; the bench's readings count
    them."""
    run = bench_module()
    run.fill_collab(own_db, 30)
    ex = run.executor(own_db)

    pgbench(own_db, run.SCRIPTS["collab_cycle4"], 6, "ids={}", "toks={}", f"exec={ex}")

    with psycopg.connect(own_db, autocommit=True) as c:
        finished = c.execute(
            "select count(*), count(distinct lease_token), min(attempt), max(attempt)"
            " from collab.job_history where status = 'succeeded'"
        ).fetchone()
        assert finished == (20, 20, 1, 1), "5 completions of 4, each under its own claim's token"
        running = c.execute(
            "select count(*), count(distinct lease_token) from collab.jobs"
            " where status = 'running' and executor_id = %s",
            [ex],
        ).fetchone()
        assert running == (4, 4), "the last claim, not yet completed"
        events = c.execute(
            "select type::text, count(*), count(distinct job_id) from collab.job_events"
            " where job_id is not null group by 1 order by 1"
        ).fetchall()
        assert events == [("claimed", 24, 24), ("enqueued", 30, 30), ("succeeded", 20, 20)]
        assert c.execute(run.DONE_SQL["collab"]).fetchone() == (20,)
        assert c.execute(run.LEFT_SQL["collab"]).fetchone() == (6,)


def test_the_4way_target_prints_collabs_api_with_no_worker() -> None:
    """The 4-way target's line gives Collab's api calls with no worker (COLLAB_API_DRAIN4_ROW)
    over the best peer, beside the workers and the contract's bare writes, and their CPU a
    job; without that row measured, neither."""
    run = bench_module()
    b = run.Bench(run.Sizes(True))
    cpu = {"machine_us_per_job": 600.0, "client_us_per_job": 90.0}
    cpu |= {"cores_busy": 1.1, "cores_stolen": 0.0}
    b.results["workloads"] = {
        "drain": {
            "collab async worker concurrency 4": {"median": 2000.0},
            "graphile-worker -j 4": {"median": 1600.0},
            run.COLLAB_API_DRAIN4_ROW: {"median": 2400.0, "cpu": [cpu]},
            run.CONTRACT_DRAIN4_ROW: {"median": 3200.0},
        }
    }
    line = next(t for t in run.targets(b) if t[0].startswith("end to end 4-way"))
    assert line[1].startswith("2,000.0 vs 1,600.0 = 1.25x (contract's bare writes: 2.00x)")
    assert "; Collab's api with no worker: 1.50x" in line[1]
    assert "Collab's api with no worker 600 µs (90 in its client), 1.10 cores busy" in line[1]
    del b.results["workloads"]["drain"][run.COLLAB_API_DRAIN4_ROW]
    line = next(t for t in run.targets(b) if t[0].startswith("end to end 4-way"))
    assert "no worker" not in line[1]


def test_contract_batch_enqueue_writes_a_job_and_its_event_per_element(fresh_db: str) -> None:
    """The bare batch enqueue (the bound of the batch enqueue row, section 1): every element
    becomes a queued job of its queue with its payload and exactly one `enqueued` event of
    that job, in the one statement's transaction; a batch that fails writes neither."""
    run = bench_module()
    run.build_contract(fresh_db)
    body = [{"queue": "bench", "type": "noop", "payload": {"n": n}} for n in range(5)]
    body.append({"queue": "other", "type": "noop"})
    with psycopg.connect(fresh_db, autocommit=True) as c:
        assert c.execute(run.CONTRACT_ENQUEUE_BATCH, [json.dumps(body)]).fetchone() == (6,)
        jobs = c.execute(
            "select id, queue, payload, status, attempt from contract_jobs order by id"
        ).fetchall()
        assert [(j[1], j[2], j[3], j[4]) for j in jobs] == [
            ("bench", {"n": n}, "queued", 0) for n in range(5)
        ] + [("other", {}, "queued", 0)]
        events = c.execute(
            "select job_id, type, attempt from contract_events order by job_id"
        ).fetchall()
        assert events == [(j[0], "enqueued", 0) for j in jobs]
        # A batch with an element the table refuses (no queue) writes no job and no event.
        with pytest.raises(psycopg.errors.NotNullViolation):
            c.execute(run.CONTRACT_ENQUEUE_BATCH, [json.dumps([{"type": "noop"}, *body])])
        counts = c.execute(
            "select (select count(*) from contract_jobs), (select count(*) from contract_events)"
        ).fetchone()
        assert counts == (6, 6)


def test_contract_wake_starts_each_job_once_after_its_enqueue(fresh_db: str) -> None:
    """The wake-up row's bound (section 4): each enqueue writes its job, its `enqueued` event and
    the notification in one transaction; the listening thread claims each job once (lease,
    fresh token, `claimed` event), reports a wait from the enqueue call to that start, and
    completes it under its token. The untimed first job is left out of the waits."""
    run = bench_module()
    run.build_contract(fresh_db)

    waits = run.contract_wake_run(fresh_db, 6, 50)

    assert len(waits) == 6
    assert all(0 < w < 5000 for w in waits), waits
    with psycopg.connect(fresh_db, autocommit=True) as c:
        assert c.execute("select count(*) from contract_jobs").fetchone() == (0,)
        history = c.execute(
            "select id, attempt, lease_token from contract_history order by id"
        ).fetchall()
        assert [(h[0], h[1]) for h in history] == [(i, 1) for i in range(1, 8)]
        assert len({h[2] for h in history}) == 7, "each claim gave a fresh token"
        events = c.execute(
            "select job_id, array_agg(type order by id) from contract_events"
            " group by job_id order by job_id"
        ).fetchall()
        assert events == [(i, ["enqueued", "claimed", "succeeded"]) for i in range(1, 8)]


def test_contract_wake_reports_a_consumer_that_fails(fresh_db: str) -> None:
    """Jobs without the contract's lease columns: the enqueue works, the consumer's claim
    fails, and the run raises instead of reporting waits it did not measure."""
    run = bench_module()
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute(
            "create table contract_jobs (id bigserial primary key, queue text, payload jsonb,"
            " attempt integer not null default 0)"
        )
        c.execute("create table contract_events (job_id bigint, type text, attempt integer)")
    with pytest.raises(RuntimeError, match="consumer failed"):
        run.contract_wake_run(fresh_db, 3, 50)


def test_cpu_a_job_counts_the_whole_machine_and_the_client() -> None:
    """The 4-way rows' CPU a job (machine_cpu, cpu_share) reads the machine's busy and stolen
    time from /proc/stat: clients busy for 0.4 s on every core show in the busy time (with
    anything else running, never less, and never more than the cores can give), and their
    share of it is what their own clocks say."""
    run = bench_module()
    cores = os.cpu_count() or 1
    spin = "import os\nt = sum(os.times()[:2])\nwhile sum(os.times()[:2]) - t < 0.4: pass"
    (m0, s0), c0 = run.machine_cpu(), os.times()
    spinners = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(cores)]
    for proc in spinners:
        assert proc.wait() == 0
    (m1, s1), c1 = run.machine_cpu(), os.times()
    seconds, machine = c1.elapsed - c0.elapsed, m1 - m0
    client = sum(c1[:4]) - sum(c0[:4])  # this process and the spinning children
    # (a difference of sums of floats: 0.8 of two children's 0.4 s read 0.7999999999999972)
    assert client >= 0.4 * cores - 1e-9, client
    assert machine >= 0.9 * client, (machine, client)
    assert machine + (s1 - s0) <= cores * seconds + 0.05, (machine, s1 - s0, seconds)
    share = run.cpu_share(1000, seconds, machine, client, s1 - s0)
    assert share["machine_us_per_job"] == pytest.approx(1e3 * machine)
    assert share["client_us_per_job"] == pytest.approx(1e3 * client)
    assert 0.5 < share["cores_busy"] <= cores + 0.2
    assert 0 <= share["cores_stolen"] <= cores


def no_snapshot_before(c: psycopg.Connection[Any], xid: str) -> bool:
    """No other backend, of any database, holds a snapshot or a transaction as old as ``xid``,
    nor does a replication slot or a prepared transaction."""
    row = c.execute(
        "select not exists (select from pg_stat_activity"
        "                    where pid <> pg_backend_pid()"
        "                      and (age(backend_xmin) >= age(%(x)s::xid)"
        "                           or age(backend_xid) >= age(%(x)s::xid)))"
        "   and not exists (select from pg_replication_slots where age(xmin) >= age(%(x)s::xid))"
        "   and not exists (select from pg_prepared_xacts where age(transaction) >= age(%(x)s::xid))",
        {"x": xid},
    ).fetchone()
    return bool(row and row[0])


def test_claim_index_usage_tells_pages_in_use_from_the_file(unvacuumed_db: str) -> None:
    """The soak samples the claim index's leaf pages in use beside its file size: a drained
    backlog leaves the file as large as the backlog made it, while the pages in use (VACUUM
    deletes the emptied ones) fall back; a new backlog reuses those pages instead of growing
    the file. In a database no autovacuum works on: an autoanalyze of the filled table holds
    a snapshot under which the deleted pages cannot be reused yet, and the refill then grew
    the file (a CI run: 1,728,512 against 1,392,640 bytes). Postgres 15's B-tree recycles a
    deleted page only once no snapshot of any database can still need it (it tests the page
    against the horizon of shared catalogs), so a snapshot another test holds meanwhile, in its
    own database, did the same (a CI run with the routing simulation beside: the same figures);
    the test waits for every snapshot older than the deletion to end before it refills."""
    run = bench_module()
    with psycopg.connect(unvacuumed_db, autocommit=True) as c:
        c.execute("create extension if not exists pgstattuple")
        run.fill_collab(unvacuumed_db, 20000, queue="usage")
        c.execute("vacuum collab.jobs")
        full_file, full_leaf = run.claim_index_usage(c)
        assert full_leaf >= 20000 * 16, full_leaf  # an entry is at least 16 bytes
        assert full_file > full_leaf
        c.execute("delete from collab.jobs where queue = 'usage'")
        c.execute("vacuum collab.jobs")
        drained_file, drained_leaf = run.claim_index_usage(c)
        assert drained_file == full_file
        assert drained_leaf <= full_leaf / 10, (drained_leaf, full_leaf)
        # A page deleted by one VACUUM is free for reuse once no snapshot can still need it;
        # the next VACUUM records it as such.
        deleted_by = c.execute("select xid(pg_current_xact_id())::text").fetchone()
        assert deleted_by is not None
        wait_for(
            lambda: no_snapshot_before(c, str(deleted_by[0])),
            timeout=120,
            what="every snapshot of the cluster older than the emptied pages' deletion to end",
        )
        c.execute("vacuum collab.jobs")
        run.fill_collab(unvacuumed_db, 5000, queue="usage")
        c.execute("vacuum collab.jobs")
        again_file, again_leaf = run.claim_index_usage(c)
        assert again_file == full_file
        assert drained_leaf < again_leaf < full_leaf
        c.execute("delete from collab.jobs where queue = 'usage'")


def test_soak_verdict_prints_pages_in_use_only_where_sampled() -> None:
    run = bench_module()
    old = {"claim_index_bytes": 5e6}
    new = {"claim_index_bytes": 9e6, "claim_index_leaf_bytes": 1.5e6}
    assert run.claim_in_use(old, new) == ""
    assert run.claim_in_use(new, {**new, "claim_index_leaf_bytes": 0.25e6}) == (
        " (1.50 -> 0.25 MB of leaf pages in use)"
    )


def test_soak_load_counts_commits_flushes_vacuums_and_cpu(unvacuumed_db: str) -> None:
    """A soak sample's load counters (soak_load) move with what happened between two samples:
    the database's commits (made on another connection, whose statistics are flushed), the
    cluster's WAL flushes (each synchronous commit of a write flushes), the hot table's
    vacuums, and this process's CPU time, never more than the machine's busy time."""
    run = bench_module()
    with (
        psycopg.connect(unvacuumed_db, autocommit=True) as c,
        psycopg.connect(unvacuumed_db, autocommit=True) as other,
    ):
        before = run.soak_load(c)
        other.execute("create table soak_load_probe (n int)")
        for n in range(5):
            other.execute("insert into soak_load_probe values (%s)", [n])
        other.execute("select pg_stat_force_next_flush()")
        c.execute("vacuum collab.jobs")
        spin = time.process_time()
        while time.process_time() - spin < 0.2:
            pass
        after = run.soak_load(c)
    assert after["commits"] - before["commits"] >= 6, (before, after)
    assert after["wal_syncs"] - before["wal_syncs"] >= 1, (before, after)
    assert after["hot_vacuums"] - before["hot_vacuums"] == 1, (before, after)
    client = after["client_cpu_s"] - before["client_cpu_s"]
    assert client >= 0.2, client
    assert after["machine_cpu_s"] - before["machine_cpu_s"] >= 0.9 * client
    # The host's steal is a counter since boot: it never runs backwards, and it cannot take
    # more than both cores over the time between the samples.
    stolen = after["stolen_cpu_s"] - before["stolen_cpu_s"]
    assert 0 <= stolen <= 2 * (after["machine_cpu_s"] - before["machine_cpu_s"] + 1), stolen


def test_soak_intervals_tell_each_intervals_load_and_skip_unsampled_ones() -> None:
    """soak_intervals turns two samples into the interval's rates; samples recorded before the
    load was sampled (older results files) give no interval, and the section shows none."""
    run = bench_module()
    plain = {"t": 0.0, "done": 0, "backlog": 0}
    a = {
        **plain,
        "machine_cpu_s": 100.0,
        "stolen_cpu_s": 7.0,
        "client_cpu_s": 10.0,
        "commits": 1000.0,
        "wal_syncs": 50.0,
        "hot_vacuums": 2.0,
    }
    z = {
        "t": 30.0,
        "done": 60000,
        "backlog": 1500,
        "machine_cpu_s": 154.0,
        "stolen_cpu_s": 19.0,
        "client_cpu_s": 25.0,
        "commits": 16000.0,
        "wal_syncs": 30050.0,
        "hot_vacuums": 5.0,
    }
    (row,) = run.soak_intervals([plain, a, z])
    assert row == {
        "from": 0.0,
        "to": 30.0,
        "jobs_per_s": 2000.0,
        "backlog": 1500,
        "commits_per_job": 0.25,
        "cores_busy": 1.8,
        "cpu_us_per_job": 900.0,
        "cores_stolen": 0.4,
        "client_cores": 0.5,
        "wal_syncs_per_s": 1000.0,
        "hot_vacuums": 3.0,
    }
    assert run.soak_intervals([plain, {**plain, "t": 30.0}]) == []
    assert run.soak_section({"soak": {"samples": [plain, plain]}}) == []
    lines = run.soak_section({"soak": {"samples": [a, z]}})
    assert lines[-1] == (
        "| soak | 0-30 | 2,000 | 1,500 | 0.25 | 1.80 | 900 | 0.40 | 0.50 | 1,000 | 3 |"
    )
    # Results recorded before the steal was sampled: the interval has no stolen cores.
    older = [{k: v for k, v in x.items() if k != "stolen_cpu_s"} for x in (a, z)]
    (row,) = run.soak_intervals(older)
    assert row["cores_stolen"] is None
    assert run.soak_section({"soak": {"samples": older}})[-1] == (
        "| soak | 0-30 | 2,000 | 1,500 | 0.25 | 1.80 | 900 | - | 0.50 | 1,000 | 3 |"
    )


def test_soak_verdict_names_the_largest_backlog_and_the_hosts_steal_under_it() -> None:
    """A backlog of live jobs grows the hot table and the claim index whatever the tables do:
    the soak's verdict names the largest one after its first third, and the cores the host
    took from the machine in the interval that ended at it; nothing when none reached 1,000
    jobs (the jobs in flight when a sample is taken are a backlog of a few)."""
    run = bench_module()

    def sample(t: float, done: int, backlog: int, stolen: float) -> dict[str, float]:
        return {
            "t": t,
            "done": done,
            "backlog": backlog,
            "machine_cpu_s": t,
            "stolen_cpu_s": stolen,
            "client_cpu_s": 0.0,
            "commits": float(done),
            "wal_syncs": 0.0,
            "hot_vacuums": 0.0,
        }

    calm = [sample(0, 0, 0, 0.0), sample(30, 30000, 999, 0.3)]
    assert run.largest_backlog(calm) == ""
    stalled = [*calm, sample(60, 45000, 15000, 27.3), sample(90, 90000, 0, 27.6)]
    assert run.largest_backlog(stalled) == (
        "; largest backlog 15,000 at t=60s (500 jobs/s done from t=30s, the host taking 0.90 cores)"
    )
    # The first sample, or one recorded before the steal was sampled: the backlog alone.
    assert run.largest_backlog([sample(0, 0, 4000, 0.0)]) == "; largest backlog 4,000 at t=0s"
    older = [{k: v for k, v in x.items() if k != "stolen_cpu_s"} for x in stalled]
    assert run.largest_backlog(older) == "; largest backlog 15,000 at t=60s"
    # The verdict's line reads the samples from its first third on; the rule is unchanged.
    sizes = {"jobs_bytes": 9e6, "events_bytes": 5e7, "history_bytes": 5e7}
    sizes |= {"claim_index_bytes": 1e5, "jobs": 0}
    b = run.Bench(run.Sizes(True))
    b.results["workloads"] = {}
    b.results["soak"] = {"target_jobs_per_s": 1000.0, "samples": [x | sizes for x in stalled]}
    b.results["soak"]["samples"][2]["claim_index_bytes"] = 2.5e6
    b.results["soak"]["samples"][3]["claim_index_bytes"] = 2.5e6
    _, measured, verdict = next(t for t in run.targets(b) if "soak" in t[0])
    assert measured.endswith(
        "; backlog 0; largest backlog 15,000 at t=60s (500 jobs/s done from t=30s, the host"
        " taking 0.90 cores)"
    ), measured
    assert verdict == "does not hold"


def test_a_worker_target_shows_the_better_of_collabs_two_workers_and_names_both() -> None:
    """The end-to-end and wake-up targets read the better of Collab's workers on the row (the
    thread worker, collab.Worker, and the asyncio worker, collab.AsyncWorker): higher jobs/s,
    lower latency; the line names both, so neither can hide behind the other."""
    run = bench_module()
    b = run.Bench(run.Sizes(True))
    b.results["workloads"] = {
        "drain": {
            "collab worker concurrency 4": {"median": 1200.0},
            "collab async worker concurrency 4": {"median": 1600.0},
            "collab worker concurrency 32": {"median": 5000.0},
        },
        "wake": {"collab worker p50": 3.0, "collab async worker p50": 4.0},
    }
    b.results["workloads"]["wake"] = {
        k: {"median": v} for k, v in b.results["workloads"]["wake"].items()
    }
    assert run.best_worker(b, "drain", "{w} concurrency 4") == (
        1600.0,
        "; Collab's workers: AsyncWorker 1,600.0, Worker 1,200.0 (the AsyncWorker's shown)",
    )
    value, note = run.best_worker(b, "drain", "{w} concurrency 32")
    assert value == 5000.0 and "AsyncWorker" not in note
    value, note = run.best_worker(b, "wake", "{w} p50", lower=True)
    assert value == 3.0 and note.endswith("(the Worker's shown)")
    assert run.best_worker(b, "drain", "{w} concurrency 8") == (None, "")


def test_events_off_takes_out_every_event_of_the_cycle_and_nothing_else(
    own_db: str,
) -> None:
    """The overhead row's "events off" build (bench/run.py's events_off): the claim, the
    completion and the batch completion still do their work, and no job event is written,
    neither by the triggers nor by the statements that write their own."""
    run = bench_module()
    run.events_off(own_db)
    with psycopg.connect(own_db, autocommit=True) as c:
        ex = run.executor(own_db)
        c.execute("select api.enqueue('bench', 't') from generate_series(1, 3)")
        one = c.execute(
            "select id, lease_token from api.claim(%s::uuid, '{bench}', 1)", [ex]
        ).fetchone()
        assert one is not None
        done = c.execute("select (api.complete(%s, %s)).status", list(one)).fetchone()
        assert done == ("succeeded",)
        two = c.execute(
            "select coalesce(jsonb_agg(jsonb_build_object('job_id', id, 'lease_token', lease_token)), '[]')"
            " from api.claim(%s::uuid, '{bench}', 2)",
            [ex],
        ).fetchone()
        assert two is not None
        outcomes = c.execute("select ok from api.complete_batch(%s)", [Jsonb(two[0])]).fetchall()
        assert outcomes == [(True,), (True,)]
        assert c.execute(
            "select count(*) from collab.job_history where status = 'succeeded'"
        ).fetchone() == (3,)
        assert c.execute(
            "select count(*) from collab.job_events where job_id is not null"
        ).fetchone() == (0,)
        # The shipped functions hold what events_off takes out, once each: it fails otherwise.
        with pytest.raises(RuntimeError, match="expected one written CTE"):
            run.events_off(own_db)


def test_interleaved_runs_every_row_once_a_round_in_turned_order() -> None:
    """The enqueue rows (section 1) are measured in rounds: every row once a round, the order
    turned by one each round, each row's figures kept in its own list in the rows' order."""
    bench = bench_module()
    log: list[str] = []

    def row(name: str, figure: float) -> Any:
        def run() -> float:
            log.append(name)
            return figure + len(log)

        return run

    runs = bench.interleaved({"a": row("a", 100), "b": row("b", 200), "c": row("c", 300)}, 4)
    assert log == ["a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c"]
    assert list(runs) == ["a", "b", "c"]
    assert runs == {"a": [101, 106, 108, 110], "b": [202, 204, 209, 211], "c": [303, 305, 307, 312]}


def test_wait_kind_sorts_what_pg_stat_activity_shows() -> None:
    """A commit waits for its WAL on disk: syncing it, writing it, or waiting for another
    backend's flush to end are all the commit flush; a backend idle or reading from its client
    waits for the client; a heavyweight lock is a lock; no wait while active is CPU."""
    kind = bench_module().wait_kind
    assert kind("active", None, None) == "cpu"
    assert kind("idle", None, None) == "client"
    assert kind("idle", "Client", "ClientRead") == "client"
    assert kind("active", "Client", "ClientRead") == "client"
    assert kind("active", "IO", "WALSync") == "commit flush"
    assert kind("active", "IO", "WALWrite") == "commit flush"
    assert kind("active", "LWLock", "WALWrite") == "commit flush"
    assert kind("active", "Lock", "transactionid") == "locks"
    assert kind("active", "Lock", "relation") == "locks"
    assert kind("active", "LWLock", "WALInsert") == "other"
    assert kind("active", "LWLock", "BufferContent") == "other"
    assert kind("active", "IO", "DataFileRead") == "other"
    assert kind("idle in transaction", "Client", "ClientRead") == "client"


def test_backend_waits_tell_a_lock_wait_from_cpu(fresh_db: str, server_url: str) -> None:
    """backend_waits samples the pgbench backends of one database only: two clients blocked
    by another session's lock are counted as locks; one client computing, as CPU. The SQL rows
    of bench/run.py record these shares (w_sql), and the cycle targets print them."""
    run = bench_module()
    db = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("create table w (x int)")
    with psycopg.connect(fresh_db) as holder:
        holder.execute("lock table w in access exclusive mode")
        with (
            run.backend_waits(server_url, db) as blocked,
            pgbench_started(fresh_db, "select count(*) from w;\n", 1, clients=2) as bench,
        ):
            time.sleep(1.0)
            holder.rollback()
            assert bench.wait(30) == 0
    shares = run.wait_shares(blocked)
    assert sum(blocked.values()) >= 100, blocked
    assert shares["locks"] > 0.8, blocked

    with run.backend_waits(server_url, db) as busy:
        pgbench(fresh_db, "select count(*) from generate_series(1, 3000000);\n", 3)
    assert run.wait_shares(busy)["cpu"] > 0.7, busy
    assert busy["locks"] == 0

    with run.backend_waits(server_url, "no_such_database") as none:
        time.sleep(0.1)
    assert sum(none.values()) == 0 and run.wait_shares(none)["cpu"] == 0.0


def test_a_sampler_that_cannot_connect_fails_the_block(fresh_db: str) -> None:
    run = bench_module()
    missing = fresh_db.rsplit("/", 1)[0] + "/no_such_database"
    with (
        pytest.raises(RuntimeError, match="the wait sampler failed"),
        run.backend_waits(missing, "x"),
    ):
        time.sleep(0.2)


def test_the_cycle_targets_print_where_the_backends_spent_their_time() -> None:
    run = bench_module()
    b = run.Bench(run.Sizes(True))
    rows = {
        "collab api.claim+api.complete, 1 per tx": (900.0, 0.5, 0.3),
        "baseline SKIP LOCKED claim tx + delete tx, 1 per tx": (1800.0, 0.6, 0.17),
        run.CONTRACT_ROW.format(k=1): (1300.0, 0.58, 0.22),
        run.RULES_FREE_ROW: (1206.0, 0.55, 0.25),
    }
    b.results["workloads"]["sql"] = {
        system: {
            "median": rate,
            "waits": {"cpu": cpu, "commit flush": flush, "client": 1 - cpu - flush},
        }
        for system, (rate, flush, cpu) in rows.items()
    }
    b.results["workloads"]["sql"]["collab api.claim+api.complete, 1 per tx"]["flush"] = {
        "syncs_per_s": 1100.0,
        "commits_per_sync": 1.63,
        "sync_ms": 0.623,
        "syncing": 0.69,
    }
    line = next(m for name, m, _ in run.targets(b) if name.endswith("SKIP LOCKED cycle"))
    assert line == (
        "900.0 vs 1,800.0 = 0.50x (contract's bare writes: 0.72x); without the api's rules:"
        " 0.67x; backends' time:"
        " Collab 50% on the commit flush, 30% cpu (the WAL syncing 69% of the time, 0.62 ms a"
        " sync); the reference 60% on the commit flush, 17% cpu; the bare writes 58% on the"
        " commit flush, 22% cpu"
    )


def test_flush_figures_count_the_syncs_a_databases_commits_waited_for(fresh_db: str) -> None:
    """Each commit of a transaction that wrote waits for its WAL's sync (synchronous_commit
    on, one client): 200 such commits count 200 commits and at least one sync; the figures
    divide as they say."""
    run = bench_module()
    db = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("create table f (x int)")
        before = run.flush_counters(c, db)
        for i in range(200):
            c.execute("insert into f values (%s)", [i])
    # A backend sends its counters at most once a second, and when it exits: the writer's
    # are in once its session has ended.
    with psycopg.connect(fresh_db, autocommit=True) as c:
        deadline = time.monotonic() + 10
        after = run.flush_counters(c, db)
        while after[3] - before[3] < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
            after = run.flush_counters(c, db)
    assert after[3] - before[3] >= 200 and after[1] - before[1] >= 1, (before, after)
    figures = run.flush_figures(before, after)
    assert figures["syncs_per_s"] == pytest.approx((after[1] - before[1]) / (after[0] - before[0]))
    assert figures["commits_per_sync"] == pytest.approx(
        (after[3] - before[3]) / (after[1] - before[1])
    )
    assert run.flush_figures((0.0, 10.0, 5.0, 7.0), (2.0, 30.0, 15.0, 47.0)) == {
        "syncs_per_s": 10.0,
        "commits_per_sync": 2.0,
        "sync_ms": 0.5,
        "syncing": 0.005,
    }
    assert run.flush_figures((0.0, 1.0, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0))["commits_per_sync"] == 0.0


def test_fixed_rate_runs_record_what_the_host_took_each_second(own_db: str) -> None:
    """The held and burst rows' runs (fixed_rate) sample the host's steal with their other
    counters each second: the systems run one after another, so the report must say when the
    host took cores from one of them (stolen_cores); the burst's verdict prints it for the
    slowest second (stolen_in_slowest)."""
    run = bench_module()
    r = run.fixed_rate("collab-sql", own_db, 2, 50, hold=False)
    # The run ends on the clock: a batch sent in its last moments may still be queued.
    assert 0 < r["done"] <= r["sent"], r
    samples = r["samples"]
    assert len(r["stolen_per_second"]) == len(samples) - 1 >= 2
    assert 0 <= r["cores_stolen"] <= 2
    assert all(0 <= x <= 2.5 for x in r["stolen_per_second"]), r["stolen_per_second"]

    timed = [{"t": float(t), "stolen_s": s} for t, s in ((0, 10.0), (1, 10.1), (2, 11.0))]
    assert run.stolen_cores(timed) == {"cores_stolen": 0.5, "stolen_per_second": [0.1, 0.9]}
    assert run.stolen_cores(timed[:1]) == {}
    assert run.stolen_cores([{"t": 0.0}, {"t": 1.0}]) == {}  # a run recorded before
    u = run.stolen_cores(timed)
    assert run.stolen_in_slowest(u, [780.0, 410.0]) == (
        "; the host took 0.90 cores in the slowest second, 0.50 over the run"
    )
    assert run.stolen_in_slowest(u, [780.0, 790.0, 300.0]) == (
        "; the host took 0.50 cores over the run"
    )
    assert run.stolen_in_slowest({}, [780.0]) == ""
    rows = {
        run.COLLAB_WORKER: {
            "offered_per_s": 800,
            "seconds": 2.0,
            "first_second": 780.0,
            "min_second": 410.0,
            "min_over_offered": 410 / 800,
            "min_over_steady": 410 / 595,
            "steady": 595.0,
            "per_second": [780.0, 410.0],
            "last_quarter_over_offered": 0.5,
            "backlog": 0,
            "dead_tuples_max": 10,
            "first_autovacuum_s": None,
            **u,
        }
    }
    (line,) = run.hot_targets({"burst": rows})
    assert line[1].endswith("in the slowest second, 0.50 over the run"), line
    assert "| none | 0.50 |" in run.burst_text(rows, "")[6]
    del rows[run.COLLAB_WORKER]["cores_stolen"]
    assert "| none | - |" in run.burst_text(rows, "")[6]


def test_the_report_gives_the_hosts_steal_section_by_section() -> None:
    """The report's head says what the host took from the machine while each section ran
    (workload_cores_stolen, sampled around each section by main), with each section's
    length; results files recorded before it have no such line."""
    run = bench_module()
    r = {
        "machine": {"cores": 2},
        "workload_cores_stolen": {"drain": 0.05, "burst": 0.412},
        "workload_seconds": {"drain": 900.4, "burst": 412.0},
    }
    line, blank = run.steal_by_section(r)
    assert line.startswith(
        "Cores the host took from this machine while each section ran (steal, of its 2):"
        " drain 0.05 (900 s), burst 0.41 (412 s)."
    ), line
    assert blank == ""
    assert run.steal_by_section({"workload_seconds": {"drain": 900.4}}) == []


def test_the_held_target_prints_the_hosts_steal_over_its_run() -> None:
    """The held snapshot's line gives what the host took over Collab's worker's run (the text
    the burst's line falls back to, stolen_over_run); nothing for a run recorded before the
    steal was sampled."""
    run = bench_module()
    h = {
        "seconds": 150.0,
        "offered_per_s": 300,
        "completed_over_offered": 1.0,
        "backlog": 14,
        "p99_wait_ms": 5714.0,
        **run.stolen_cores([{"t": float(t), "stolen_s": 0.34 * t} for t in range(151)]),
    }
    ((_, measured, verdict),) = run.hot_targets({"held": {run.COLLAB_WORKER: h}})
    assert measured == (
        "1.00x offered, backlog 14, p99 wait 5.7 s; the host took 0.34 cores over the run"
    )
    assert verdict == "holds"
    del h["cores_stolen"], h["stolen_per_second"]
    ((_, measured, _),) = run.hot_targets({"held": {run.COLLAB_WORKER: h}})
    assert measured == "1.00x offered, backlog 14, p99 wait 5.7 s"
