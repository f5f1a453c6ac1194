"""The artifacts suite's stack: PostgREST, the gateway and the Edge Functions runner
(``collab.stack``, the code path of ``collab stack up``) on free ports, over a migrated database
of its own, with users and workspaces made through the api as a Supabase app would."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from rest.conftest import RestStack, local_stack


@pytest.fixture(scope="session")
def artifacts_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RestStack]:
    yield from local_stack(request, tmp_path_factory, "artifacts")


@dataclass(frozen=True)
class User:
    """A signed-in user of the stack, acting in one workspace."""

    stack: RestStack
    user_id: str
    workspace_id: str | None

    @property
    def token(self) -> str:
        return self.stack.token(self.user_id, self.workspace_id)

    def headers(self) -> dict[str, str]:
        return {"apikey": self.stack.anon_key, "authorization": f"Bearer {self.token}"}

    def rpc(self, fn: str, **args: Any) -> Any:
        answer = httpx.post(
            f"{self.stack.url}/rest/v1/rpc/{fn}",
            json=args,
            headers={**self.headers(), "content-profile": "api", "accept-profile": "api"},
            timeout=60,
        )
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def put(self, name: str, data: bytes, media_type: str = "text/plain", **more: Any) -> Any:
        encoded = base64.b64encode(data).decode()
        return self.rpc("put_artifact", name=name, data=encoded, media_type=media_type, **more)


def new_workspace(stack: RestStack, label: str) -> User:
    owner = User(stack, str(uuid.uuid4()), None)
    created = owner.rpc("create_workspace", name=f"{label}-{uuid.uuid4().hex[:8]}")
    workspace = str(created["workspace_id"])
    return User(stack, owner.user_id, workspace)


def invite(admin: User, role: str) -> User:
    """A new user who joined admin's workspace with ``role`` (add_member, accept_invitation)."""
    user = User(admin.stack, str(uuid.uuid4()), admin.workspace_id)
    admin.rpc("add_member", user_id=user.user_id, role=role)
    User(admin.stack, user.user_id, None).rpc("accept_invitation", workspace_id=admin.workspace_id)
    return user


@pytest.fixture(scope="session")
def owner_a(artifacts_stack: RestStack) -> User:
    return new_workspace(artifacts_stack, "artifacts-a")


@pytest.fixture(scope="session")
def owner_b(artifacts_stack: RestStack) -> User:
    return new_workspace(artifacts_stack, "artifacts-b")
