"""Routing against three fake OpenAI-compatible providers on local HTTP servers (issue 15).

Prices 1/2/3 USD per million tokens, latencies 150/100/300 ms (the issue's 300/200/600 ms scaled
by SCALE = 1/2, so that 1,000 calls take about two minutes), error rates 0/0/50 %. The scale
is bounded by the machine's own stalls: the estimate is the mean of the last 10 samples, so
one call of the fastest route slowed by S ms adds S/10 to it, and the cheaper route ties
(within the 10 % buffer) or wins once S/10 passes 150/1.1 - 100, about 36 ms; the route that
lost its place is probed again only when its samples age out (10 s). At 1/10 (20 vs 30 ms) a
few ms of overhead under load let the cheaper route win; at 1/4 (a stall of 180 ms, twice in
one CI run) it took 233 of 1,000 calls; at 1/2 it takes a stall of 360 ms each time. Every call goes through ``RouterSelectClient.query_routed``
with the ``OpenAICompatible`` sender (the ``openai`` SDK) and the real database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest
from helpers import acting_in, service_workspaces

from collab.routing import FakeOpenAIServer, OpenAICompatible, RouterSelectClient
from collab.vault import install_master_key

CALLS = 1000
SCALE = 0.5


def ms(issue_ms: float) -> float:
    return issue_ms * SCALE


@pytest.fixture(scope="module")
def providers() -> Iterator[dict[str, FakeOpenAIServer]]:
    servers = {
        "one": FakeOpenAIServer("one", latency_ms=ms(300), error_rate=0.0, seed=1),
        "two": FakeOpenAIServer("two", latency_ms=ms(200), error_rate=0.0, seed=2),
        "three": FakeOpenAIServer("three", latency_ms=ms(600), error_rate=0.5, seed=3),
    }
    yield servers
    for s in servers.values():
        s.close()


def test_thousand_calls_fall_back_avoid_cooled_routes_and_prefer_the_fastest(
    db_url: str, providers: dict[str, FakeOpenAIServer]
) -> None:
    install_master_key(db_url)
    ws = service_workspaces(db_url, "routing-sim", ("a",))["a"]
    with acting_in(db_url, ws) as client:
        for price, name in enumerate(("one", "two", "three"), start=1):
            client.put_route(
                "chat",
                name,
                "fake",
                name,
                base_url=providers[name].base_url,
                input_price=price,
                output_price=price,
            )
        router = RouterSelectClient(client, sleep=lambda s: None)
        send = OpenAICompatible(timeout=5)
        request = {"messages": [{"role": "user", "content": "hi"}], "input_tokens": 10}
        answered: Counter[str] = Counter()
        failures = 0
        for _ in range(CALLS):
            try:
                routed = router.query_routed("chat", request, send)
            except Exception:
                failures += 1
                continue
            answered[routed.route] += 1
        assert (CALLS - failures) / CALLS >= 0.99, (failures, answered)
        assert answered["two"] / CALLS >= 0.80, answered

        # zero calls to a route while it was cooling down (every call is an outcome row)
        with psycopg.connect(db_url) as conn:
            called_while_cooled = conn.execute(
                """select count(*) from collab.route_outcomes o
                    where o.workspace_id = %s and exists (
                      select 1 from collab.route_outcomes c
                       where c.workspace_id = o.workspace_id and c.route = o.route
                         and c.id < o.id and c.cooldown_until > o.created_at)""",
                [ws],
            ).fetchone()
        assert called_while_cooled is not None and called_while_cooled[0] == 0
        total_calls = sum(s.calls for s in providers.values())
        with psycopg.connect(db_url) as conn:
            rows = conn.execute(
                "select count(*) from collab.route_outcomes where workspace_id = %s", [ws]
            ).fetchone()
        assert rows is not None and rows[0] == total_calls, "every call has its outcome row"

        # a latency step of the preferred route (200 -> 800 ms, scaled) is noticed within 5
        # calls: its estimate passes the midpoint (500 ms, scaled)
        def estimate() -> float:
            snap = client.rank_routes("chat", {})
            return float(next(c for c in snap["candidates"] if c["route"] == "two")["latency_ms"])

        assert estimate() < ms(500)
        providers["two"].latency_ms = ms(800)
        noticed_after = None
        for calls in range(1, 6):
            routed = router.query_routed("chat", {**request, "only": ["two"]}, send)
            assert routed.route == "two"
            if estimate() > ms(500):
                noticed_after = calls
                break
        assert noticed_after is not None, "the latency step was not noticed within 5 calls"
        send.close()


def _shares(client: object, service: str, picks: int) -> Counter[str]:
    from collab.client import Client

    assert isinstance(client, Client)
    chosen: Counter[str] = Counter()
    for _ in range(picks):
        chosen[str(client.rank_routes(service, {})["chosen"])] += 1
    return chosen


def test_tied_routes_share_picks_evenly(db_url: str) -> None:
    install_master_key(db_url)
    ws = service_workspaces(db_url, "routing-tie", ("a",))["a"]
    with acting_in(db_url, ws) as client:
        client.put_route("tie", "left", "fake", "m")
        client.put_route("tie", "right", "fake", "m")
        snap = client.rank_routes("tie", {})
        for _ in range(10):  # 200 ms and 205 ms: within the 10 % buffer
            client.record_route_outcome(snap["snapshot_id"], "left", 200, latency_ms=200)
            client.record_route_outcome(snap["snapshot_id"], "right", 200, latency_ms=205)
        chosen = _shares(client, "tie", 1000)
        assert 450 <= chosen["left"] <= 550, chosen


def test_inverse_square_price_weighting_is_nine_to_one(db_url: str) -> None:
    install_master_key(db_url)
    ws = service_workspaces(db_url, "routing-price", ("a",))["a"]
    with acting_in(db_url, ws) as client:
        client.put_route("p", "usd1", "fake", "m", input_price=1, output_price=1)
        client.put_route("p", "usd3", "fake", "m", input_price=3, output_price=3)
        client.configure_routing("p", "price_weighted")
        picks = 2500
        chosen = _shares(client, "p", picks)
        assert abs(chosen["usd1"] / picks - 0.9) <= 0.02, chosen
