"""``collab secrets put | get | rotate | list | audit`` against a migrated database with the
master key installed (the CLI acts as the service role in the default workspace). Values go
in on stdin, never on the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from collab.cli import main
from collab.vault import install_master_key


def test_secrets_put_get_rotate_list_audit(db_url: str) -> None:
    install_master_key(db_url)
    runner = CliRunner()
    env = {"COLLAB_DATABASE_URL": db_url}
    put = runner.invoke(
        main, ["secrets", "put", "cli-key", "--stdin"], input="sk-cli-first\n", env=env
    )
    assert put.exit_code == 0, put.output
    assert json.loads(put.output)["version"] == 1
    assert "sk-cli-first" not in put.output
    got = runner.invoke(main, ["secrets", "get", "cli-key"], env=env)
    assert got.exit_code == 0, got.output
    assert got.output == "sk-cli-first\n"

    rotated = runner.invoke(
        main, ["secrets", "rotate", "cli-key", "--stdin"], input="sk-cli-second\n", env=env
    )
    assert rotated.exit_code == 0, rotated.output
    assert json.loads(rotated.output)["version"] == 2
    current = runner.invoke(main, ["secrets", "get", "cli-key"], env=env)
    previous = runner.invoke(main, ["secrets", "get", "cli-key", "--label", "previous"], env=env)
    assert (current.output, previous.output) == ("sk-cli-second\n", "sk-cli-first\n")

    listed = runner.invoke(main, ["secrets", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "sk-cli" not in listed.output  # names and versions, never values
    (row,) = [r for r in json.loads(listed.output) if r["name"] == "cli-key"]
    assert row["version"] == 2

    missing = runner.invoke(main, ["secrets", "get", "no-such-key"], env=env)
    assert missing.exit_code == 1
    assert missing.output.startswith("error: ")

    audit = runner.invoke(main, ["secrets", "audit", "cli-key"], env=env)
    assert audit.exit_code == 0, audit.output
    rows = json.loads(audit.output)
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("read", "ok"),
        ("read", "ok"),
        ("rotate", "ok"),
        ("read", "ok"),
        ("write", "ok"),
    ]
    denied = runner.invoke(main, ["secrets", "audit", "no-such-key"], env=env)
    assert [(r["action"], r["outcome"], r["reason"]) for r in json.loads(denied.output)] == [
        ("read", "denied", "secret_not_found")
    ]
