"""Routing retention (collab.purge_routing) beside routed calls: a purge that has deleted old
snapshots and outcomes and not yet committed holds no lock a ranking or an outcome waits for,
and purging in batches until 0 leaves only the rows younger than the cutoff."""

from __future__ import annotations

import psycopg
from helpers import acting_in, service_workspaces


def test_an_open_purge_blocks_no_routed_call_and_batches_purge_to_the_end(db_url: str) -> None:
    ws = service_workspaces(db_url, "routing-retention", ("a",))["a"]
    with acting_in(db_url, ws) as client:
        client.put_route("chat", "a", "fake", "m")
        client.put_route("chat", "b", "fake", "m")
        for _ in range(25):
            snap = client.rank_routes("chat", {})
            client.record_route_outcome(int(snap["snapshot_id"]), "a", 200, latency_ms=100)
        with psycopg.connect(db_url, autocommit=True) as admin:
            # the 25 calls become 8 days old
            admin.execute(
                "update collab.routing_snapshots set created_at = created_at - interval '8 days'"
                " where workspace_id = %s",
                [ws],
            )
            admin.execute(
                "update collab.route_outcomes set created_at = created_at - interval '8 days'"
                " where workspace_id = %s",
                [ws],
            )
        with psycopg.connect(db_url) as purger:
            purged = purger.execute("select collab.purge_routing(interval '7 days', 10)").fetchone()
            assert purged == (20,)
            # the purge's transaction is open, its deletes uncommitted: a routed call goes on
            with psycopg.connect(db_url, autocommit=True) as probe:
                probe.execute("set lock_timeout = '1s'")
                probe.execute(
                    "select set_config('request.jwt.claims', %s, false)",
                    ['{"role": "service_role", "workspace_id": "' + ws + '"}'],
                )
                row = probe.execute(
                    "select (api.rank_routes('chat') ->> 'snapshot_id')::bigint"
                ).fetchone()
                assert row is not None
                probe.execute("select api.record_route_outcome(%s, 'b', 200, 90)", [row[0]])
            purger.commit()
            total = 20
            while True:
                (n,) = purger.execute(
                    "select collab.purge_routing(interval '7 days', 10)"
                ).fetchone() or (0,)
                purger.commit()
                total += int(n)
                if not n:
                    break
        with psycopg.connect(db_url) as c:
            left = c.execute(
                "select (select count(*) from collab.routing_snapshots where workspace_id = %s),"
                " (select count(*) from collab.route_outcomes where workspace_id = %s)",
                [ws, ws],
            ).fetchone()
    assert total == 50, total
    assert left == (1, 1), left  # the call made while the purge was open
