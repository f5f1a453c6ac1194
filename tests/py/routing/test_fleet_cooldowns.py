"""A fleet of agents shares its cooldowns: a fallback down a snapshot's ranking skips a route
that another agent cooled after the snapshot was ranked (``api.record_route_outcome`` names
the routes cooling on a failure; ``RouterSelectClient.query_routed`` skips them). Each agent
is its own client of the same workspace; ``send`` is scripted so the other agent's call
lands while the first agent's call is in flight."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from helpers import acting_in, service_workspaces

from collab.client import Client
from collab.routing import CallResult, ProviderError, RouterSelectClient, RoutingFailed


def _routes(client: Client, names: tuple[str, ...]) -> None:
    for price, name in enumerate(names, start=1):
        client.put_route("chat", name, "fake", name, input_price=price, output_price=price)
    client.configure_routing("chat", "cost")  # cheapest first: the order the names are given


def _other_agent_cools(other: Client, route: str) -> None:
    snap = other.rank_routes("chat", {"input_tokens": 10})
    outcome = other.record_route_outcome(int(snap["snapshot_id"]), route, 503)
    assert outcome["cooled"], outcome


def test_a_fallback_skips_a_route_another_agent_cooled_after_the_ranking(db_url: str) -> None:
    ws = service_workspaces(db_url, "routing-fleet", ("a",))["a"]
    called: list[str] = []
    with acting_in(db_url, ws) as agent, acting_in(db_url, ws) as other:
        _routes(agent, ("a", "b", "c"))

        def send(candidate: Mapping[str, Any], request: Mapping[str, Any]) -> CallResult:
            called.append(candidate["route"])
            if candidate["route"] == "a":
                _other_agent_cools(other, "b")  # while this call of a is in flight
                raise ProviderError(500, "a is down")
            return CallResult(candidate["route"])

        router = RouterSelectClient(agent, sleep=lambda s: None)
        routed = router.query_routed("chat", {"input_tokens": 10}, send)
    assert called == ["a", "c"], called
    assert routed.route == "c"
    assert [a.route for a in routed.attempts] == ["a", "c"]


def test_when_every_route_left_is_cooling_none_of_them_is_called(db_url: str) -> None:
    ws = service_workspaces(db_url, "routing-fleet-all", ("a",))["a"]
    called: list[str] = []
    with acting_in(db_url, ws) as agent, acting_in(db_url, ws) as other:
        _routes(agent, ("a", "b"))

        def send(candidate: Mapping[str, Any], request: Mapping[str, Any]) -> CallResult:
            called.append(candidate["route"])
            _other_agent_cools(other, "b")
            raise ProviderError(500, f"{candidate['route']} is down")

        router = RouterSelectClient(agent, max_retries=1, sleep=lambda s: None)
        with pytest.raises(RoutingFailed) as failed:
            router.query_routed("chat", {"input_tokens": 10}, send)
    # a fails and cools, b was cooled meanwhile: the next round's ranking has neither (5 s)
    assert called == ["a"], called
    assert [(a.route, a.status, a.cooled) for a in failed.value.attempts] == [("a", 500, True)]
