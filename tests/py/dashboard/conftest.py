"""The dashboard's browser tests: a stack of their own (the real PostgREST and the gateway on
free ports, ``collab.stack`` as ``collab stack up`` runs it), Debian's ``chromium`` launched by
path through Playwright (no browser download), and helpers that act as the other side: a
producer and an executor calling the api over REST with their own tokens.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from rest.conftest import RestStack, local_stack

from collab import stack

REPO = Path(__file__).resolve().parents[3]
DIST = REPO / "dashboard" / "dist"
AXE = REPO / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"
# Debian's chromium package (its `chromium` launcher on PATH); COLLAB_CHROMIUM names another
CHROMIUM_CANDIDATES = ("chromium",)


def chromium_path() -> str:
    given = os.environ.get("COLLAB_CHROMIUM")
    for candidate in (given, *CHROMIUM_CANDIDATES):
        if candidate and (found := shutil.which(candidate)):
            return found
    pytest.fail(
        "chromium not found: `make setup` installs Debian's chromium package "
        "(tests/tools/ensure_system_packages.sh), or set COLLAB_CHROMIUM",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": ["--no-sandbox", "--disable-dev-shm-usage"],
    }


# The dashboard's stack: tests/py/rest's local stack (with its folder, so that its gateway can
# be stopped and started again).
DashStack = RestStack


@pytest.fixture(scope="session")
def dash_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DashStack]:
    """A stack of its own over a new migrated database (as tests/py/rest's, keeping its folder)."""
    if not (DIST / "index.html").is_file() or not AXE.is_file():
        pytest.fail("the dashboard is not built: run `make setup` (dashboard/build.sh)")
    yield from local_stack(request, tmp_path_factory, "dashboard")


@dataclass
class Api:
    """Calls of the api over the gateway with one token (as supabase-js sends them)."""

    stack: RestStack
    token: str

    def call(self, name: str, args: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(
            f"{self.stack.url}/rest/v1/rpc/{name}",
            json=args or {},
            headers={
                "apikey": self.stack.anon_key,
                "authorization": f"Bearer {self.token}",
                "content-profile": "api",
                "accept-profile": "api",
            },
            timeout=30,
        )

    def rpc(self, name: str, args: dict[str, Any] | None = None) -> Any:
        answer = self.call(name, args)
        assert answer.status_code == 200, f"{name}: {answer.status_code} {answer.text}"
        return answer.json()


@dataclass
class Workspace:
    id: str
    name: str
    operator: Api  # the service role acting in this workspace
    admin_id: str
    viewer_id: str

    def user(self, user_id: str) -> Api:
        token = stack.mint_token(
            self.operator.stack.jwt_secret, "authenticated", sub=user_id, workspace=self.id
        )
        return Api(self.operator.stack, token)


@pytest.fixture
def workspace(dash_stack: DashStack) -> Workspace:
    """A new workspace with an admin and a viewer (added by the service role)."""
    service = Api(dash_stack, dash_stack.service_role_key)
    name = f"dash-{uuid.uuid4().hex[:8]}"
    made = service.rpc("create_workspace", {"name": name})
    workspace_id = str(made["workspace_id"])
    operator = Api(
        dash_stack, stack.mint_token(dash_stack.jwt_secret, "service_role", workspace=workspace_id)
    )
    admin_id, viewer_id = str(uuid.uuid4()), str(uuid.uuid4())
    operator.rpc("add_member", {"user_id": admin_id, "role": "admin"})
    operator.rpc("add_member", {"user_id": viewer_id, "role": "viewer"})
    return Workspace(workspace_id, name, operator, admin_id, viewer_id)


def sign_in(page: Page, dash_stack: DashStack, workspace: Workspace, user_id: str | None) -> None:
    """Open the dashboard and pick an identity in the dev sign-in (None: the operator)."""
    page.goto(f"{dash_stack.url}/dashboard/")
    entry = page.locator(f'li[data-workspace="{workspace.id}"]')
    label = "operator (service role)" if user_id is None else user_id
    entry.get_by_role("button", name=label).click()
    page.locator("#connection.conn-live").wait_for(timeout=10_000)
