"""A busy workspace in the dashboard: a burst of events must not freeze the page, and the
screenshots in docs/ (shown in the README) are taken here, of a real run. They are written
to docs/ only with COLLAB_UPDATE_SCREENSHOTS=1 (`make screenshots`); otherwise to
.collab/screenshots, so that a test run leaves the checkout as it found it."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from .conftest import REPO, Api, DashStack, Workspace, sign_in

DOCS = (
    REPO / "docs"
    if os.environ.get("COLLAB_UPDATE_SCREENSHOTS") == "1"
    else REPO / ".collab" / "screenshots"
)


def test_a_burst_of_events_is_rendered_in_batches_and_the_page_stays_usable(
    page: Page, dash_stack: DashStack, workspace: Workspace
) -> None:
    sign_in(page, dash_stack, workspace, workspace.admin_id)
    page.goto(f"{dash_stack.url}/dashboard/#/jobs")
    admin = workspace.user(workspace.admin_id)
    for _ in range(3):  # 3,000 events within about a second
        admin.rpc("enqueue_batch", {"jobs": [{"queue": "burst", "type": "t"}] * 1000})
    expect(page.locator("#events-received")).to_have_text("3000", timeout=20_000)
    expect(page.locator("#job-rows tr[data-job-id]")).to_have_count(50)  # one page
    page.get_by_role("link", name="Dead letters").click()
    expect(page.get_by_role("heading", name="Dead letters")).to_be_visible()


def work(operator: Api, executor_id: str, queues: list[str], until: float) -> None:
    """An executor: claim, heartbeat with progress, then complete, fail or kill (dead)."""
    rng = random.Random(7)
    while time.monotonic() < until:
        jobs = operator.rpc("claim", {"executor_id": executor_id, "queues": queues, "max_jobs": 8})
        if not jobs:
            time.sleep(0.2)
            continue
        for job in jobs:
            operator.rpc(
                "progress",
                {"job_id": job["id"], "lease_token": job["lease_token"], "progress": 0.5},
            )
        time.sleep(rng.uniform(0.05, 0.3))
        for job in jobs:
            token = {"job_id": job["id"], "lease_token": job["lease_token"]}
            roll = rng.random()
            if roll < 0.08:
                operator.rpc(
                    "fail",
                    {
                        **token,
                        "retryable": False,
                        "error": {"reason": "poison", "message": "unparseable input"},
                    },
                )
            elif roll < 0.2:
                operator.rpc("fail", {**token, "error": {"reason": "timeout"}})
            else:
                operator.rpc("complete", {**token, "result": {"tokens": rng.randint(100, 900)}})


def test_screenshots_of_a_busy_workspace(
    page: Page, dash_stack: DashStack, workspace: Workspace
) -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    operator = workspace.operator
    queues = ["agents", "emails"]
    for queue in queues:
        operator.rpc(
            "configure_queue",
            {
                "queue": queue,
                "max_attempts": 3,
                "backoff_base_seconds": 0.2,
                "backoff_max_seconds": 1,
            },
        )
    executors = [
        str(operator.rpc("register_executor", {"name": f"worker-{i}", "queues": queues}))
        for i in range(3)
    ]
    sign_in(page, dash_stack, workspace, workspace.admin_id)
    until = time.monotonic() + 14
    threads = [
        threading.Thread(target=work, args=(operator, e, queues, until), daemon=True)
        for e in executors
    ]
    for t in threads:
        t.start()
    rng = random.Random(3)
    while time.monotonic() < until - 3:
        operator.rpc(
            "enqueue_batch",
            {
                "jobs": [
                    {
                        "queue": rng.choice(queues),
                        "type": rng.choice(["summarize", "fetch", "parse"]),
                        "payload": {"doc": rng.randint(1, 10_000)},
                    }
                    for _ in range(rng.randint(5, 25))
                ]
            },
        )
        time.sleep(0.5)
    for t in threads:
        t.join()
    page.goto(f"{dash_stack.url}/dashboard/#/")
    expect(page.locator('#queue-rows tr[data-queue="agents"]')).to_be_visible()
    page.wait_for_function("window.collabDashboard.samples.length >= 3")
    shots: dict[str, tuple[str, str]] = {
        "dashboard-queues.png": ("#/", "#charts canvas"),
        "dashboard-jobs.png": ("#/jobs", "#job-rows tr[data-job-id]"),
        "dashboard-dlq.png": ("#/dlq", "#dead-rows tr[data-job-id]"),
        "dashboard-executors.png": ("#/executors", "#executor-rows tr[data-executor]"),
    }
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, (hash_, ready) in shots.items():
        page.goto(f"{dash_stack.url}/dashboard/{hash_}")
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_timeout(300)  # let the charts draw their last sample
        page.screenshot(path=str(DOCS / name), full_page=False)
    dead = operator.rpc("list_jobs", {"status": "dead", "limit": 1})[0]["job"]["id"]
    page.goto(f"{dash_stack.url}/dashboard/#/jobs/{dead}")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "dead")
    page.screenshot(path=str(DOCS / "dashboard-job.png"), full_page=False)
    for name in [*shots, "dashboard-job.png"]:
        assert Path(DOCS / name).stat().st_size > 10_000, name
