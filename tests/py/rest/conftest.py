"""The REST suite's stack: the real PostgREST and the gateway (``collab.stack``, the code path of
``collab stack up``) on free ports, over a migrated database of the test server, for the session.

Clients are supabase-py, created as Supabase users create them (``schema='api'``), with the
stack's anon or service_role key, or a user's JWT minted with the stack's secret.

Against a real Supabase project (migrated with ``collab migrate up``) instead::

    COLLAB_REST_TARGET=external SUPABASE_URL=https://<ref>.supabase.co SUPABASE_ANON_KEY=…
    SUPABASE_SERVICE_ROLE_KEY=… SUPABASE_JWT_SECRET=… SUPABASE_DB_URL=postgresql://…
    .venv/bin/python -m pytest tests/py/rest

The database URL is only read (the catalog of ``api``); tests of the local stack itself
(``local_only``: the gateway's own rules, ``collab stack``) are skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import create_database, drop_database
from supabase import Client, ClientOptions, create_client

from collab import stack


@dataclass(frozen=True)
class RestStack:
    url: str  # the API (nginx in front of PostgREST and the gateway): SUPABASE_URL
    postgrest_url: str
    db_url: str
    anon_key: str
    service_role_key: str
    jwt_secret: str
    # the Python gateway on its internal port, behind nginx (local stack only)
    gateway_url: str = field(default="", kw_only=True)
    # the stack's folder (local stack only): its gateway can be stopped and started again
    directory: Path | None = field(default=None, kw_only=True)

    def stack(self) -> stack.Stack:
        assert self.directory is not None, "only a local stack has a folder"
        return stack.Stack(self.directory)

    def token(self, user_id: str, workspace: str | None = None, ttl: float = 600) -> str:
        return stack.mint_token(
            self.jwt_secret, "authenticated", sub=user_id, workspace=workspace, ttl=ttl
        )


EXTERNAL = os.environ.get("COLLAB_REST_TARGET") == "external"
EXTERNAL_VARIABLES = (
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "SUPABASE_SERVICE_ROLE_KEY",
    "SUPABASE_JWT_SECRET",
    "SUPABASE_DB_URL",
)
local_only = pytest.mark.skipif(
    EXTERNAL, reason="checks the local stack itself, not a Supabase project"
)


def _external() -> RestStack:
    missing = [v for v in EXTERNAL_VARIABLES if not os.environ.get(v)]
    if missing:
        pytest.fail(f"COLLAB_REST_TARGET=external needs {', '.join(missing)}", pytrace=False)
    return RestStack(
        url=os.environ["SUPABASE_URL"].rstrip("/"),
        postgrest_url="",  # behind the project's own gateway
        db_url=os.environ["SUPABASE_DB_URL"],
        anon_key=os.environ["SUPABASE_ANON_KEY"],
        service_role_key=os.environ["SUPABASE_SERVICE_ROLE_KEY"],
        jwt_secret=os.environ["SUPABASE_JWT_SECRET"],
    )


@pytest.fixture(scope="session")
def rest_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RestStack]:
    if EXTERNAL:
        yield _external()
        return
    yield from local_stack(request, tmp_path_factory, "rest")


def local_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, label: str
) -> Iterator[RestStack]:
    """A stack of its own (PostgREST and the gateway on free ports) over a new migrated
    database of the test server, for a suite that must not share state with the others."""
    server_url: str = request.getfixturevalue("server_url")
    template_db: str = request.getfixturevalue("template_db")
    name = f"collab_t_{os.getpid()}_{label}"  # the session's prefix: leftovers are dropped
    db_url = create_database(server_url, name, template_db)
    the_stack = stack.Stack(Path(tmp_path_factory.mktemp("stack")))
    try:
        state = the_stack.up(db_url, api_port="auto", postgrest_port="auto")
        keys = the_stack.secrets()
        assert keys is not None
        yield RestStack(
            url=state.api_url,
            postgrest_url=state.postgrest_url,
            db_url=db_url,
            anon_key=keys.anon_key,
            service_role_key=keys.service_role_key,
            jwt_secret=keys.jwt_secret,
            gateway_url=f"http://{stack.HOST}:{state.gateway_port}",
            directory=the_stack.dir,
        )
    finally:
        the_stack.down(stop_db=False)
        drop_database(server_url, name)


def _client(rest: RestStack, key: str, authorization: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {authorization}"} if authorization else {}
    options = ClientOptions(
        schema="api",
        headers=headers,
        auto_refresh_token=False,
        persist_session=False,
        postgrest_client_retry=False,
    )
    return create_client(rest.url, key, options=options)


@pytest.fixture(scope="session")
def anon(rest_stack: RestStack) -> Client:
    return _client(rest_stack, rest_stack.anon_key)


@pytest.fixture(scope="session")
def service(rest_stack: RestStack) -> Client:
    return _client(rest_stack, rest_stack.service_role_key)


UserClient = Callable[[str, "str | None"], Client]


@pytest.fixture(scope="session")
def as_user(rest_stack: RestStack) -> UserClient:
    """A supabase-py client signed in as ``user_id`` (optionally naming a workspace)."""

    def make(user_id: str, workspace: str | None = None) -> Client:
        return _client(rest_stack, rest_stack.anon_key, rest_stack.token(user_id, workspace))

    return make


@dataclass(frozen=True)
class Member:
    user_id: str
    workspace_id: str
    client: Client


@pytest.fixture
def new_member(as_user: UserClient) -> Callable[[str], Member]:
    """A new user who creates a workspace (and so owns it), and their client acting in it."""

    def make(label: str) -> Member:
        user_id = str(uuid.uuid4())
        made = (
            as_user(user_id, None)
            .rpc("create_workspace", {"name": f"{label}-{uuid.uuid4().hex[:8]}"})
            .execute()
        )
        assert isinstance(made.data, dict)
        workspace_id = str(made.data["workspace_id"])
        return Member(user_id, workspace_id, as_user(user_id, workspace_id))

    return make
