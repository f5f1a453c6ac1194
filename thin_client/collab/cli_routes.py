"""``collab routes list | add | snapshot SERVICE``: LLM routes and their latest ranking
(docs/routing.md). Registered by ``collab.cli``; imports only ``cli_common`` of the CLI."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from collab.cli_common import client, one_line_errors, print_json
from collab.routing import route_table


@click.group("routes")
def routes() -> None:
    """LLM routes per service, ranked by the database (docs/routing.md)."""


@routes.command("list")
@click.argument("service", required=False)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@one_line_errors
def routes_list(service: str | None, as_json: bool) -> None:
    """The routes of SERVICE (or of every service)."""
    with client() as c:
        rows = c.list_routes(service)
    if as_json:
        print_json(rows)
        return
    table = Table(title="routes")
    for col in (
        "service",
        "name",
        "provider/model",
        "in $/M",
        "out $/M",
        "context",
        "secret",
        "on",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["service"],
            r["name"],
            f"{r['provider']}/{r['model']}",
            str(r["input_price"]),
            str(r["output_price"]),
            str(r["context_window"]),
            str(r["secret_name"] or "-"),
            "yes" if r["enabled"] else "no",
        )
    Console().print(table)


@routes.command("add")
@click.argument("service")
@click.argument("name")
@click.option("--provider", required=True)
@click.option("--model", required=True)
@click.option("--base-url", help="OpenAI-compatible endpoint, e.g. https://openrouter.ai/api/v1")
@click.option("--input-price", type=float, default=0, show_default=True, help="USD per million")
@click.option("--output-price", type=float, default=0, show_default=True, help="USD per million")
@click.option("--context-window", type=int, default=8192, show_default=True)
@click.option("--capability", "capabilities", multiple=True, help="tools, json, vision, ...")
@click.option("--tag", "tags", multiple=True)
@click.option("--data-collection", type=click.Choice(["deny", "allow"]), default="deny")
@click.option("--weight", type=float, default=1, show_default=True)
@click.option("--secret", "secret_name", help="the vault secret holding the key")
@click.option("--disabled", is_flag=True)
@one_line_errors
def routes_add(
    service: str,
    name: str,
    provider: str,
    model: str,
    base_url: str | None,
    input_price: float,
    output_price: float,
    context_window: int,
    capabilities: tuple[str, ...],
    tags: tuple[str, ...],
    data_collection: str,
    weight: float,
    secret_name: str | None,
    disabled: bool,
) -> None:
    """Create or replace route NAME of SERVICE."""
    with client() as c:
        print_json(
            c.put_route(
                service,
                name,
                provider,
                model,
                base_url=base_url,
                input_price=input_price,
                output_price=output_price,
                context_window=context_window,
                capabilities=capabilities,
                tags=tags,
                data_collection=data_collection,
                weight=weight,
                secret_name=secret_name,
                enabled=not disabled,
            )
        )


@routes.command("snapshot")
@click.argument("service")
@click.option("--rank", "rank_now", is_flag=True, help="rank now (writes a new snapshot)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@one_line_errors
def routes_snapshot(service: str, rank_now: bool, as_json: bool) -> None:
    """The latest ranking of SERVICE: rank, cost, latency, error rate, cooldown, exclusions."""
    with client() as c:
        snap = c.rank_routes(service, {}) if rank_now else c.routing_snapshot(service)
    if as_json:
        print_json(snap)
        return
    render_snapshot(snap)


def render_snapshot(snap: dict[str, object], console: Console | None = None) -> None:
    table = Table(
        title=f"{snap['service']}: snapshot {snap['snapshot_id']} ({snap['strategy']}, "
        f"{snap['mode']}) at {snap['created_at']}"
    )
    for col in (
        "rank",
        "route",
        "provider/model",
        "cost $",
        "latency ms",
        "errors",
        "cooldown until",
        "excluded",
    ):
        table.add_column(col)
    for row in route_table(snap):
        table.add_row(*row)
    (console or Console()).print(table)
