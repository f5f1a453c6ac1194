"""Who sees what: a viewer sees no admin action (and the database refuses the call anyway);
a member of workspace A never sees B's jobs or events; accessibility (axe-core)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from .conftest import AXE, DashStack, Workspace, sign_in


def test_a_viewer_sees_no_admin_actions_and_the_database_refuses_them(
    page: Page, dash_stack: DashStack, workspace: Workspace
) -> None:
    operator = workspace.operator
    executor_id = operator.rpc("register_executor", {"name": "exec-v", "queues": ["v"]})
    job = operator.rpc("enqueue", {"queue": "v", "type": "t", "max_attempts": 1})
    claimed = operator.rpc("claim", {"executor_id": executor_id, "queues": ["v"]})[0]
    operator.rpc(
        "fail",
        {"job_id": job["id"], "lease_token": claimed["lease_token"], "retryable": False},
    )
    sign_in(page, dash_stack, workspace, workspace.viewer_id)
    expect(page.locator("#role")).to_have_text("viewer")
    expect(page.locator('#queue-rows tr[data-queue="v"]')).to_be_visible()
    expect(page.get_by_role("button", name="Pause v")).to_have_count(0)
    page.goto(f"{dash_stack.url}/dashboard/#/dlq")
    expect(page.locator(f'#dead-rows tr[data-job-id="{job["id"]}"]')).to_be_visible()
    expect(page.get_by_role("button", name="Requeue", exact=False)).to_have_count(0)
    expect(page.get_by_role("button", name="Purge all dead jobs")).to_have_count(0)
    page.goto(f"{dash_stack.url}/dashboard/#/jobs/{job['id']}")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "dead")
    expect(page.get_by_role("button", name="Requeue", exact=False)).to_have_count(0)

    viewer = workspace.user(workspace.viewer_id)
    for name, args in (
        ("requeue", {"job_ids": [job["id"]]}),
        ("purge_dead", {}),
        ("pause_queue", {"queue": "v"}),
    ):
        assert viewer.call(name, args).status_code == 403, name
    # while the admin sees the actions
    page.goto(f"{dash_stack.url}/dashboard/")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, dash_stack, workspace, workspace.admin_id)
    expect(page.get_by_role("button", name="Pause v")).to_be_visible()


def test_a_member_of_one_workspace_never_sees_another(
    page: Page, dash_stack: DashStack, workspace: Workspace
) -> None:
    from .conftest import Api

    service = Api(dash_stack, dash_stack.service_role_key)
    other = service.rpc("create_workspace", {"name": f"{workspace.name}-other"})
    from collab import stack

    intruder = Api(
        dash_stack,
        stack.mint_token(dash_stack.jwt_secret, "service_role", workspace=other["workspace_id"]),
    )
    sign_in(page, dash_stack, workspace, workspace.admin_id)
    page.goto(f"{dash_stack.url}/dashboard/#/jobs")
    theirs = intruder.rpc("enqueue", {"queue": "secret", "type": "theirs"})
    ours = workspace.user(workspace.admin_id).rpc("enqueue", {"queue": "open", "type": "ours"})
    expect(page.locator(f'#job-rows tr[data-job-id="{ours["id"]}"]')).to_be_visible()
    expect(page.locator(f'#job-rows tr[data-job-id="{theirs["id"]}"]')).to_have_count(0)
    expect(page.locator("#job-rows")).not_to_contain_text("secret")
    expect(page.locator("#events-received")).to_have_text("1")  # our enqueue only
    page.goto(f"{dash_stack.url}/dashboard/#/jobs/{theirs['id']}")
    expect(page.locator("#errors")).to_contain_text("job_not_found")
    page.goto(f"{dash_stack.url}/dashboard/")
    expect(page.locator("#queue-rows")).not_to_contain_text("secret")


def serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    assert result["passes"], "axe-core ran no rule"
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_no_serious_accessibility_violations(
    page: Page, dash_stack: DashStack, workspace: Workspace
) -> None:
    operator = workspace.operator
    executor_id = operator.rpc("register_executor", {"name": "exec-a11y", "queues": ["a11y"]})
    job = operator.rpc("enqueue", {"queue": "a11y", "type": "t", "max_attempts": 1})
    claimed = operator.rpc("claim", {"executor_id": executor_id, "queues": ["a11y"]})[0]
    operator.rpc(
        "fail",
        {"job_id": job["id"], "lease_token": claimed["lease_token"], "retryable": False},
    )
    operator.rpc("enqueue", {"queue": "a11y", "type": "t"})
    page.goto(f"{dash_stack.url}/dashboard/")
    expect(page.locator(f'li[data-workspace="{workspace.id}"]')).to_be_visible()
    assert serious_violations(page) == [], "sign-in"
    sign_in(page, dash_stack, workspace, workspace.admin_id)
    views = {
        "queues": ("#/", '#queue-rows tr[data-queue="a11y"]'),
        "jobs": ("#/jobs", f'#job-rows tr[data-job-id="{job["id"]}"]'),
        "job": (f"#/jobs/{job['id']}", "#job-status"),
        "dlq": ("#/dlq", f'#dead-rows tr[data-job-id="{job["id"]}"]'),
        "executors": ("#/executors", '#executor-rows tr[data-executor="exec-a11y"]'),
    }
    for name, (hash_, ready) in views.items():
        page.goto(f"{dash_stack.url}/dashboard/{hash_}")
        expect(page.locator(ready)).to_be_visible()
        assert serious_violations(page) == [], name
