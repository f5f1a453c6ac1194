"""The Python client's artifacts (direct Postgres): put, get, list, sign, delete; a handler's
ctx.put_artifact leaves an artifact of its job with an artifact_created event in its stream;
the workspace's limits are typed errors; the signing key is in no dump and no API role reads it."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import jwt
import psycopg
import pytest

from collab import Client, JobContext, Worker, embedded
from collab.client import NotFound, TooLarge, Unavailable

SECRET = "client-test-url-signing-key-0123456789abcdef"


@pytest.fixture
def client(db_url: str) -> Iterator[Client]:
    with Client(db_url, max_size=2) as c:
        yield c


def test_put_get_list_delete(client: Client) -> None:
    first = client.put_artifact("notes/a.md", "# a", "text/markdown", metadata={"n": 1})
    second = client.put_artifact("notes/b.md", b"# a", "text/markdown")
    assert first.sha256 == second.sha256 == hashlib.sha256(b"# a").hexdigest()
    assert client.get_artifact(first.id).metadata == {"n": 1}
    page, cursor = client.list_artifacts(prefix="notes/", limit=1)
    assert [a.name for a in page] == ["notes/b.md"] and cursor is not None
    rest, _ = client.list_artifacts(prefix="notes/", after=cursor)
    assert [a.name for a in rest] == ["notes/a.md"]
    assert client.delete_artifact(first.id).id == first.id
    with pytest.raises(NotFound):
        client.get_artifact(first.id)


def test_limits_are_typed_errors(client: Client, db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "insert into collab.artifact_usage (workspace_id, max_artifact_bytes)"
            " values (collab.default_workspace_id(), 10)"
            " on conflict (workspace_id) do update set max_artifact_bytes = 10"
        )
    try:
        with pytest.raises(TooLarge) as refused:
            client.put_artifact("big.bin", b"x" * 11)
        assert refused.value.reason == "artifact_too_large"
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("update collab.artifact_usage set max_artifact_bytes = 33554432")


def test_sign_without_and_with_a_key(client: Client, db_url: str) -> None:
    made = client.put_artifact("signed.txt", "hello")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "do $$ begin execute format('copy (select %L) to %L', '', "
            "current_setting('data_directory') || '/collab_url_signing_key.' || "
            "(select oid from pg_database where datname = current_database())); end $$"
        )
        with pytest.raises(Unavailable):
            client.sign_artifact(made.id)
        conn.execute("select collab.set_url_signing_key(%s)", [SECRET])
    signed = client.sign_artifact(made.id, 60, supabase_url="http://127.0.0.1:54321")
    claims = jwt.decode(signed["token"], SECRET, algorithms=["HS256"])
    assert claims["url"] == f"artifacts/{signed['path']}" and claims["scope"] == "download"
    assert (
        unquote(urlsplit(signed["signedUrl"]).path)
        == f"/storage/v1/object/sign/artifacts/{signed['path']}"
    )


def test_the_signing_key_is_in_no_dump_and_no_api_role_reads_it(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("select collab.set_url_signing_key(%s)", [SECRET])
        for role in ("anon", "authenticated", "service_role"):
            for probe in (
                "select collab.url_signing_key()",
                "select pg_catalog.pg_read_file('postmaster.opts')",
                "select pg_catalog.current_setting('data_directory')",
            ):
                with conn.transaction(force_rollback=True):
                    conn.execute(f"set local role {role}")
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        conn.execute(probe)
    pg_dump = str(embedded.find_bin_dir() / "pg_dump")
    dump = subprocess.run(
        [pg_dump, "--no-owner", db_url], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "collab.artifact_blobs" in dump  # a real dump of the schema and data
    assert SECRET not in dump


def test_a_handler_leaves_an_artifact_of_its_job(client: Client) -> None:
    job = client.enqueue("artifact-jobs", "report", {"title": "weekly"})
    worker = Worker(client, ["artifact-jobs"], 1, name="artifact-worker", poll_seconds=0.1)

    @worker.task("report")
    def report(ctx: JobContext) -> dict[str, int]:
        made = ctx.put_artifact("reports/weekly.json", '{"ok": true}', "application/json")
        return {"artifact": made.id}

    worker.run(stop_when_idle=True)
    done = client.get_job(job.id)
    assert done["status"] == "succeeded"
    artifacts, _ = client.list_artifacts(job_id=job.id)
    assert [a.id for a in artifacts] == [done["result"]["artifact"]]
    events = [e for e in done["events"] if e["type"] == "artifact_created"]
    assert [e["data"]["name"] for e in events] == ["reports/weekly.json"]
