"""The Python client's tenancy calls: workspaces, members, quotas and rate limits, against a
real database, as the service role naming the workspace in its claims (as PostgREST sends them)
and as a signed-in member."""

from __future__ import annotations

import time
import uuid

import pytest

from collab import Client
from collab.client import Forbidden, RateLimited


def test_create_workspace_then_work_in_it_by_claim(db_url: str) -> None:
    with Client(db_url, max_size=1) as service:
        made = service.create_workspace("client-tenancy-a")
    assert made["name"] == "client-tenancy-a"
    ws = made["workspace_id"]
    with Client(db_url, max_size=1, claims={"role": "service_role", "workspace_id": ws}) as c:
        job = c.enqueue("tenancy-q", "t")
        assert [j.id for j in c.list_jobs()[0]] == [job.id]
    with Client(db_url, max_size=1) as default_ws:
        assert job.id not in [j.id for j in default_ws.list_jobs(queue="tenancy-q")[0]]


def test_rate_limit_refuses_a_burst_with_retry_after_and_removing_it_lifts_it(db_url: str) -> None:
    with Client(db_url, max_size=1) as service:
        ws = service.create_workspace("client-tenancy-b")["workspace_id"]
    with Client(db_url, max_size=1, claims={"role": "service_role", "workspace_id": ws}) as c:
        limit = c.configure_rate_limit("enqueue", "workspace", rate_per_second=0.5, burst=2)
        assert limit is not None and limit["rate_per_second"] == 0.5
        c.enqueue("rl-q", "t")
        c.enqueue("rl-q", "t")
        with pytest.raises(RateLimited) as refused:
            c.enqueue("rl-q", "t")
        assert refused.value.reason == "rate_limited"
        assert 0 < refused.value.retry_after <= 2.0  # one token at 0.5/s
        assert c.configure_rate_limit("enqueue", "workspace", rate_per_second=None) is None
        c.enqueue("rl-q", "t")


def test_rate_limit_lets_calls_through_after_retry_after(db_url: str) -> None:
    with Client(db_url, max_size=1) as service:
        ws = service.create_workspace("client-tenancy-c")["workspace_id"]
    with Client(db_url, max_size=1, claims={"role": "service_role", "workspace_id": ws}) as c:
        c.configure_rate_limit("enqueue", "workspace", rate_per_second=20, burst=1)
        c.enqueue("rl-q", "t")
        with pytest.raises(RateLimited) as refused:
            c.enqueue("rl-q", "t")
        time.sleep(refused.value.retry_after + 0.02)
        c.enqueue("rl-q", "t")


def test_queued_quota_and_removing_it(db_url: str) -> None:
    with Client(db_url, max_size=1) as service:
        ws = service.create_workspace("client-tenancy-d")["workspace_id"]
    with Client(db_url, max_size=1, claims={"role": "service_role", "workspace_id": ws}) as c:
        assert c.configure_workspace(max_queued_jobs=1)["max_queued_jobs"] == 1
        c.enqueue("quota-q", "t")
        with pytest.raises(RateLimited) as refused:
            c.enqueue("quota-q", "t")
        assert refused.value.reason == "quota_exceeded"
        assert c.configure_workspace(max_queued_jobs=0)["max_queued_jobs"] is None
        c.enqueue("quota-q", "t")


def test_a_viewer_added_by_the_client_reads_but_cannot_enqueue(db_url: str) -> None:
    viewer = uuid.uuid4()
    with Client(db_url, max_size=1) as service:
        ws = service.create_workspace("client-tenancy-e")["workspace_id"]
    with Client(db_url, max_size=1, claims={"role": "service_role", "workspace_id": ws}) as admin:
        added = admin.add_member(viewer, "viewer")
        assert (added["user_id"], added["role"]) == (str(viewer), "viewer")
        admin.enqueue("viewer-q", "t")
    claims = {"role": "authenticated", "sub": str(viewer), "workspace_id": ws}
    with Client(db_url, max_size=1, claims=claims) as as_viewer:
        assert len(as_viewer.list_jobs()[0]) == 1
        with pytest.raises(Forbidden) as refused:
            as_viewer.enqueue("viewer-q", "t")
        assert refused.value.detail.get("required_role") == "member"
