"""bench/run.py's options for the held row: --held-seconds sets how long the snapshot is held,
--hot-systems keeps the held and burst rows to the systems named (a ten-minute hold of every
system would take an hour), and a name that is no system is refused before any cluster
starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import load_module

ROOT = Path(__file__).resolve().parents[3]


def bench_module() -> Any:
    return load_module("collab_bench_run", ROOT / "bench" / "run.py")


def test_hot_systems_keeps_the_kinds_named() -> None:
    run = bench_module()
    b = run.Bench(run.Sizes(True))
    # The templates' names stand for the databases (no cluster runs here: only the filter is
    # tested; the rows themselves run in the bench).
    b.collab_template = lambda: "tpl_collab"
    b.template = lambda name, _build: name
    peers = {"pgmq": "1", "graphile-worker": "1"}
    every = [kind for _, kind, _ in run.hot_systems(b, peers)]
    assert every == ["collab", "collab-sql", "plain", "pgmq", "graphile"]
    assert set(every) == set(run.HOT_KINDS)
    b.hot_kinds = {"collab", "plain"}
    assert [kind for _, kind, _ in run.hot_systems(b, peers)] == ["collab", "plain"]


def test_an_unknown_system_is_refused_before_any_cluster_starts() -> None:
    args = ["--only", "held", "--no-doc", "--held-seconds", "600", "--hot-systems", "collab,nope"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--hot-systems: unknown nope" in done.stderr
    assert "benchmark cluster" not in done.stdout
