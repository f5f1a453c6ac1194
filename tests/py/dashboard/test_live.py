"""The dashboard in a real browser (Debian's chromium): live rows from the event stream, the
dead-letter requeue, catching up after the gateway restarts, and who sees what."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from playwright.sync_api import Page, expect

from collab import stack

from .conftest import Api, DashStack, Workspace, sign_in


def executor(workspace: Workspace, queue: str) -> tuple[Api, str]:
    operator = workspace.operator
    executor_id = operator.rpc("register_executor", {"name": f"exec-{queue}", "queues": [queue]})
    return operator, str(executor_id)


def claim_one(api: Api, executor_id: str, queue: str) -> dict[str, Any]:
    claimed = api.rpc("claim", {"executor_id": executor_id, "queues": [queue], "max_jobs": 1})
    assert len(claimed) == 1, claimed
    return dict(claimed[0])


def test_an_enqueued_job_appears_within_a_second_then_runs_and_succeeds(
    page: Page, dash_stack: DashStack, workspace: Workspace
) -> None:
    sign_in(page, dash_stack, workspace, workspace.admin_id)
    page.goto(f"{dash_stack.url}/dashboard/#/jobs")
    expect(page.locator("#job-rows")).to_contain_text("No jobs match")
    admin = workspace.user(workspace.admin_id)
    job = admin.rpc("enqueue", {"queue": "live", "type": "summarize", "payload": {"n": 1}})
    row = page.locator(f'#job-rows tr[data-job-id="{job["id"]}"]')
    expect(row).to_be_visible(timeout=1000)
    expect(row.locator("td[data-status]")).to_have_attribute("data-status", "queued")

    operator, executor_id = executor(workspace, "live")
    claimed = claim_one(operator, executor_id, "live")
    assert claimed["id"] == job["id"]
    expect(row.locator("td[data-status]")).to_have_attribute("data-status", "running")
    operator.rpc(
        "complete", {"job_id": job["id"], "lease_token": claimed["lease_token"], "result": {}}
    )
    expect(row.locator("td[data-status]")).to_have_attribute("data-status", "succeeded")


def test_the_requeue_button_moves_a_dead_job_back_to_queued(
    page: Page, dash_stack: DashStack, workspace: Workspace
) -> None:
    operator, executor_id = executor(workspace, "dlq")
    job = operator.rpc("enqueue", {"queue": "dlq", "type": "parse", "max_attempts": 1})
    claimed = claim_one(operator, executor_id, "dlq")
    operator.rpc(
        "fail",
        {
            "job_id": job["id"],
            "lease_token": claimed["lease_token"],
            "error": {"reason": "poison", "message": "cannot parse"},
            "retryable": False,
        },
    )
    sign_in(page, dash_stack, workspace, workspace.admin_id)
    page.goto(f"{dash_stack.url}/dashboard/#/dlq")
    row = page.locator(f'#dead-rows tr[data-job-id="{job["id"]}"]')
    expect(row).to_contain_text("poison")
    row.get_by_role("button", name=f"Requeue job {job['id']}").click()
    expect(row).to_have_count(0)
    assert operator.rpc("get_job", {"job_id": job["id"]})["status"] == "queued"
    page.goto(f"{dash_stack.url}/dashboard/#/jobs/{job['id']}")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "queued")


def test_the_page_catches_up_after_the_gateway_restarts_without_losing_an_event(
    page: Page, dash_stack: DashStack, workspace: Workspace
) -> None:
    sign_in(page, dash_stack, workspace, workspace.admin_id)
    page.goto(f"{dash_stack.url}/dashboard/#/jobs")
    admin = workspace.user(workspace.admin_id)
    before = admin.rpc("enqueue_batch", {"jobs": [{"queue": "gap", "type": "t"}] * 5})
    expect(page.locator("#events-received")).to_have_text("5")

    # Kill the gateway (and with it the page's event stream); write while it is down.
    the_stack = dash_stack.stack()
    state, keys = the_stack.state(), the_stack.secrets()
    assert state is not None and keys is not None
    assert stack.GATEWAY.stop(the_stack.dir)
    expect(page.locator("#connection")).not_to_have_text("stream: live")
    claims = json.dumps({"role": "service_role", "workspace_id": workspace.id})
    with psycopg.connect(dash_stack.db_url, autocommit=True) as conn, conn.transaction():
        conn.execute("select set_config('request.jwt.claims', %s, true)", [claims])
        conn.execute(
            "select api.enqueue_batch(%s::jsonb)", [json.dumps([{"queue": "gap", "type": "t"}] * 7)]
        )
    the_stack._start_gateway(state, keys)  # the same port: the page reconnects by itself

    expect(page.locator("#connection")).to_have_text("stream: live", timeout=15_000)
    expect(page.locator("#events-received")).to_have_text("12", timeout=10_000)
    page_view = page.evaluate(
        "() => ({start: window.collabDashboard.startCursor, ids: window.collabDashboard.receivedIds})"
    )
    stream = admin.rpc("events_since", {"cursor": page_view["start"], "limit": 1000})
    assert page_view["ids"] == [e["id"] for e in stream]  # every event once, in stream order
    assert len(before) == 5
    expect(page.locator("#job-rows tr[data-job-id]")).to_have_count(12)
