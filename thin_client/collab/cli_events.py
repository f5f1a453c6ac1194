"""``collab events tail``: print the event stream (docs/realtime.md), optionally following it."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from collab.cli_common import client, one_line_errors
from collab.client import Event


@click.group()
def events() -> None:
    """The job event stream: every state change and presence change, in cursor order."""


def _line(event: Event) -> str:
    if event.job_id is None:
        subject = f"executor {event.executor_id}"
    else:
        subject = f"job {event.job_id} {event.queue}/{event.job_type} attempt {event.attempt}"
    data = json.dumps(event.data, default=str, separators=(",", ":")) if event.data else ""
    return f"{event.created_at.isoformat()}  {event.type:<16} {subject}  {data}".rstrip()


@events.command("tail")
@click.option("--follow", "-f", is_flag=True, help="Keep following new events (Ctrl-C stops).")
@click.option("--queue", help="Only the events of this queue.")
@click.option("--job", "job_id", type=int, help="Only the events of this job.")
@click.option("--type", "types", multiple=True, help="Only events of this type (repeatable).")
@click.option("--cursor", help="Start after this cursor (default: the oldest retained event).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, with its cursor.")
@one_line_errors
def events_tail(
    follow: bool,
    queue: str | None,
    job_id: int | None,
    types: tuple[str, ...],
    cursor: str | None,
    as_json: bool,
) -> None:
    """Print events after CURSOR (all retained ones by default); with --follow, wait for more.

    Each event is printed once, in cursor order, even across database restarts."""
    with client() as the_client:
        subscription = the_client.subscribe(
            cursor=cursor, queue=queue, job_id=job_id, types=list(types) or None, follow=follow
        )
        try:
            for event in subscription:
                if as_json:
                    click.echo(json.dumps(asdict(event), default=str))
                else:
                    click.echo(_line(event))
        except KeyboardInterrupt:
            pass
        finally:
            subscription.close()
