"""schemathesis against docs/openapi/collab.yaml on the running gateway (issue 13): for every
operation, generated requests (valid bodies, and bodies that break the schema) as the owner of a
workspace and as the service role acting in it. No answer may be a 5xx, and every answer must be
documented: its status listed for the operation, its body and content type as the spec says.

Bounded (``COLLAB_SCHEMATHESIS_EXAMPLES`` valid examples per operation and caller, 8 by default;
a fixed seed) so it stays well under a minute; it runs on a stack and database of its own,
because generated calls change operator limits, members and queues. A failure prints the
reproducing request (curl) that schemathesis builds.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from collab import stack
from rest.conftest import RestStack, local_only, local_stack

OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "collab.yaml"
EXAMPLES = int(os.environ.get("COLLAB_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

pytestmark = [local_only, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def fuzz_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RestStack]:
    yield from local_stack(request, tmp_path_factory, "schemathesis")


def callers(rest: RestStack) -> dict[str, dict[str, str]]:
    """Headers of the owner of a new workspace, and of the service role acting in it."""
    owner = str(uuid.uuid4())
    headers = {"apikey": rest.anon_key, "authorization": f"Bearer {rest.token(owner)}"}
    made = httpx.post(
        f"{rest.url}/rest/v1/rpc/create_workspace", json={"name": "fuzz"}, headers=headers
    )
    assert made.status_code == 200, made.text
    workspace = str(made.json()["workspace_id"])
    service = stack.mint_token(rest.jwt_secret, "service_role", workspace=workspace, ttl=3600)
    return {
        "owner": {
            "apikey": rest.anon_key,
            "authorization": f"Bearer {rest.token(owner, workspace, ttl=3600)}",
        },
        "service_role": {"apikey": rest.service_role_key, "authorization": f"Bearer {service}"},
    }


def load_schema(rest: RestStack) -> Any:
    spec = yaml.safe_load(OPENAPI.read_text())
    spec["servers"] = [{"url": f"{rest.url}/rest/v1"}]
    return schemathesis.openapi.from_dict(spec)


def exercise(
    operation: Any, base_url: str, headers: dict[str, str], mode: GenerationMode, examples: int
) -> None:
    """Run ``examples`` generated cases of one operation; raise on the first failing check."""

    @seed(13)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    run()


def test_the_gateway_answers_as_the_openapi_document_says(fuzz_stack: RestStack) -> None:
    schema = load_schema(fuzz_stack)
    base_url = f"{fuzz_stack.url}/rest/v1"
    who = callers(fuzz_stack)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    runs = [
        ("owner", GenerationMode.POSITIVE, EXAMPLES),
        ("service_role", GenerationMode.POSITIVE, EXAMPLES),
        ("owner", GenerationMode.NEGATIVE, max(1, EXAMPLES // 2)),
    ]
    failures: list[str] = []
    for operation in operations:
        for caller, mode, examples in runs:
            try:
                exercise(operation, base_url, who[caller], mode, examples)
            except (
                Exception,
                BaseExceptionGroup,
            ) as error:  # every operation's failure, not only the first
                failures.append(f"{operation.label} as {caller} ({mode.value}): {error}")
    assert failures == [], "\n\n".join(failures)
