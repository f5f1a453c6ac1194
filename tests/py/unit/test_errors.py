"""collab.client.translate: a real PTxxx error raised by an api function becomes its typed class."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from collab import Client, LeaseLost, NotFound
from collab.client import ApiError, translate


@pytest.fixture(scope="module")
def job_id(db_url: str) -> int:
    with Client(db_url, max_size=1) as client:
        return client.enqueue("unit-errors", "noop").id


def _raise(db_url: str, sql: str, params: list[object]) -> psycopg.Error:
    with psycopg.connect(db_url, autocommit=True) as conn, pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)
    return info.value


def test_lease_lost_detail_becomes_lease_lost(db_url: str, job_id: int) -> None:
    raw = _raise(
        db_url,
        "select api.complete(job_id => %s, lease_token => %s, result => null)",
        [job_id, uuid.uuid4()],
    )
    assert raw.diag.sqlstate == "PT409"
    assert json.loads(raw.diag.message_detail or "{}")["reason"] == "lease_lost"

    err = translate(raw)

    assert type(err) is LeaseLost
    assert isinstance(err, ApiError)
    assert err.sqlstate == "PT409"
    assert err.reason == "lease_lost"
    assert err.status == 409
    assert err.field == "lease_token"
    assert err.detail["job_id"] == job_id
    assert err.detail["status"] == "queued"
    assert err.hint


def test_client_raises_lease_lost(db_url: str, job_id: int) -> None:
    with Client(db_url, max_size=1) as client, pytest.raises(LeaseLost) as info:
        client.complete(job_id, uuid.uuid4(), {"x": 1})
    assert info.value.reason == "lease_lost"
    assert isinstance(info.value.__cause__, psycopg.Error)


def test_unknown_job_is_not_found_not_lease_lost(db_url: str) -> None:
    raw = _raise(
        db_url,
        "select api.complete(job_id => %s, lease_token => %s, result => null)",
        [987654321, uuid.uuid4()],
    )
    err = translate(raw)
    assert type(err) is NotFound
    assert err.reason == "job_not_found"
    assert err.sqlstate == "PT404"


def test_non_api_error_is_returned_unchanged(db_url: str) -> None:
    raw = _raise(db_url, "select 1 / 0", [])
    assert translate(raw) is raw
