"""``collab routes list | add | snapshot`` against a migrated database (the CLI acts as the
service role in the default workspace, as on a laptop)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from collab.cli import main


def test_routes_add_list_and_snapshot(db_url: str) -> None:
    runner = CliRunner()
    env = {"COLLAB_DATABASE_URL": db_url}
    for name, price in (("cheap", "1"), ("dear", "3")):
        added = runner.invoke(
            main,
            [
                "routes",
                "add",
                "chat",
                name,
                "--provider",
                "fake",
                "--model",
                f"m-{name}",
                "--input-price",
                price,
                "--output-price",
                price,
                "--capability",
                "tools",
            ],
            env=env,
        )
        assert added.exit_code == 0, added.output
        assert json.loads(added.output)["name"] == name
    listed = runner.invoke(main, ["routes", "list", "chat", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["name"], r["model"], r["input_price"]) for r in rows] == [
        ("cheap", "m-cheap", 1),
        ("dear", "m-dear", 3),
    ]
    table = runner.invoke(main, ["routes", "list"], env=env)
    assert table.exit_code == 0, table.output
    assert "fake/m-cheap" in table.output and "fake/m-dear" in table.output

    # no ranking yet: a one-line error, exit 1
    none_yet = runner.invoke(main, ["routes", "snapshot", "chat"], env=env)
    assert none_yet.exit_code == 1
    assert "no routing snapshot" in none_yet.output

    ranked = runner.invoke(main, ["routes", "snapshot", "chat", "--rank", "--json"], env=env)
    assert ranked.exit_code == 0, ranked.output
    snap = json.loads(ranked.output)
    assert snap["service"] == "chat" and len(snap["candidates"]) == 2
    assert {c["route"] for c in snap["candidates"]} == {"cheap", "dear"}
    latest = runner.invoke(main, ["routes", "snapshot", "chat", "--json"], env=env)
    assert latest.exit_code == 0, latest.output
    assert json.loads(latest.output)["snapshot_id"] == snap["snapshot_id"]
    shown = runner.invoke(main, ["routes", "snapshot", "chat"], env=env)
    assert shown.exit_code == 0, shown.output
    assert f"snapshot {snap['snapshot_id']}" in shown.output
    assert "cheap" in shown.output and "dear" in shown.output

    bad = runner.invoke(
        main,
        ["routes", "add", "chat", "x", "--provider", "p", "--model", "m", "--input-price", "-1"],
        env=env,
    )
    assert bad.exit_code == 1
    assert bad.output.startswith("error: ")
