"""Write docs/openapi/collab.yaml from the ``api`` schema of a migrated database.

Usage: ``python tests/tools/openapi_from_catalog.py DATABASE_URL [OUTPUT]``

Every ``api`` function becomes ``POST /rpc/<name>`` as PostgREST serves it: a JSON body whose
keys are the parameter names (those without a default are required), ``Authorization: Bearer
<jwt>``, the result schema (composite types become component schemas), and the error
responses with PostgREST's body ``{code, message, details, hint}``. Descriptions are the
``COMMENT ON`` of each function and type. ``tests/py/integration/test_openapi.py`` fails when
the file and the database disagree, so run this after adding or changing an api function.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import psycopg
import yaml

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = REPO / "docs" / "openapi" / "collab.yaml"

# Statuses a function answers through the helpers it calls, which its own body does not name
# (the body's PTxxx codes are read from the catalog; 400, 401, 403 and 404 are always listed):
# 409 from the lease and transition checks (collab.lease_lost, collab.reject_transition, the
# jobs triggers) and from collab.require_another_owner; 429 from the rate limits and quotas
# (collab.take_tokens, collab.check_limit, collab.check_created_limit). Only what the
# catalog cannot show belongs here: tests/py/integration/test_openapi.py fails on an
# entry the body already names.
EXTRA_STATUSES: dict[str, list[str]] = {
    "add_member": ["409"],
    "claim": ["429"],
    "complete": ["409"],
    "configure_queue": ["429"],
    "configure_workspace": ["429"],
    "create_workspace": ["429"],
    "enqueue": ["409"],
    "fail": ["409"],
    "leave_workspace": ["409"],
    "pause_queue": ["429"],
    "progress": ["409"],
    "register_executor": ["429"],
    "remove_member": ["409"],
    "requeue": ["429"],
    "resume_queue": ["429"],
}

# Every status a function can answer needs its text here (a missing one fails the build).
ERROR_TEXT = {
    "400": "Invalid input (`invalid_input`, `invalid_workspace`): DETAIL names the field.",
    "401": "No or an invalid JWT, or the anon role: nothing in api is granted to anon.",
    "403": "`forbidden` (role too low, another user's executor or job; DETAIL names `required_role`), `workspace_forbidden`, or a function granted to service_role only.",
    "404": "`PGRST202` (PostgREST): the body's keys are not the function's parameters (a required one missing, an unknown one sent); `job_not_found` or `executor_not_found` in the caller's workspace; `invitation_not_found` (accept or decline), `member_not_found` (remove_member).",
    "409": "A conflict: `lease_lost`, `idempotency_conflict`, `not_cancellable`, `not_dead`, `illegal_transition`, `workspace_exists`, `last_owner` (a workspace keeps an owner); the vault's `version_conflict` (check-and-set), `secret_not_deleted`, `secret_tampered`, `vault_key_unavailable`.",
    "410": "`cursor_expired`: the events after this cursor were purged; `invitation_expired`: ask for a new invitation; the vault's `secret_expired`, `secret_deleted`, `recovery_window_passed`.",
    "413": "`artifact_too_large` or `storage_quota_exceeded` (DETAIL `limit`).",
    "416": "`range_not_satisfiable`: the Range starts beyond the artifact's end.",
    "429": "`rate_limited` (token bucket; DETAIL has `retry_after` seconds) or `quota_exceeded` (DETAIL `quota`: max_queued_jobs, or an operator limit: queues, executors, stored_jobs, workspaces_per_user, payload_ceiling_bytes; and `limit`).",
}

SCALARS: dict[str, dict[str, Any]] = {
    "uuid": {"type": "string", "format": "uuid"},
    "text": {"type": "string"},
    "integer": {"type": "integer", "format": "int32"},
    "bigint": {"type": "integer", "format": "int64"},
    "smallint": {"type": "integer"},
    "numeric": {"type": "number"},
    "double precision": {"type": "number", "format": "double"},
    "boolean": {"type": "boolean"},
    "jsonb": {"description": "Any JSON value."},
    "json": {"description": "Any JSON value."},
    "timestamp with time zone": {"type": "string", "format": "date-time"},
    "interval": {"type": "string", "description": "A Postgres interval, e.g. `5 minutes`."},
    "xid8": {"type": "string"},
}

# Listed for every function: 400, 401 and 403 (input and roles), 404 (PostgREST's PGRST202).
ALWAYS_STATUSES = {"400", "401", "403", "404"}
# The statuses a function's own body raises: its PTxxx codes.
RAISED = "array(select distinct m[1] from regexp_matches(p.prosrc, 'PT(\\d{3})', 'g') m order by 1)"

FUNCTIONS = (
    """
select p.proname::text, p.oid, coalesce(obj_description(p.oid, 'pg_proc'), '') as comment,
       p.provolatile = 'v' as volatile, p.proretset,
       p.prorettype, format_type(p.prorettype, null) as rettype,
       coalesce(p.proargnames, '{}') as argnames,
       coalesce(p.proargmodes::text[], '{}') as argmodes,
       coalesce(p.proallargtypes, p.proargtypes::oid[]) as argtypes,
       p.pronargs, p.pronargdefaults,
       has_function_privilege('authenticated', p.oid, 'execute') as for_users,
       """
    + RAISED
    + """ as raised
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = 'api'
 order by p.proname
"""
)


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` that also admits JSON null (what PostgREST sends for an SQL null)."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if "type" not in schema:  # any JSON value (json, jsonb): null included
        return schema
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    out = {**schema, "type": [*kinds, "null"] if "null" not in kinds else kinds}
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def schema_of(
    conn: psycopg.Connection[Any], type_oid: int, components: dict[str, Any]
) -> dict[str, Any]:
    row = conn.execute(
        "select format_type(t.oid, null), t.typtype, t.typelem, t.typrelid, t.typcategory,"
        " coalesce(obj_description(t.oid, 'pg_type'), '') from pg_type t where t.oid = %s",
        (type_oid,),
    ).fetchone()
    assert row is not None
    name, typtype, elem, relid, category, comment = row
    if category == "A":
        return {"type": "array", "items": schema_of(conn, elem, components)}
    if typtype == "c":
        short = str(name).removeprefix("api.").title().replace("_", "")
        if short not in components:
            components[short] = {}
            props: dict[str, Any] = {}
            for attname, atttypid, notnull in conn.execute(
                "select attname::text, atttypid, attnotnull from pg_attribute"
                " where attrelid = %s and attnum > 0 and not attisdropped order by attnum",
                (relid,),
            ):
                prop = schema_of(conn, atttypid, components)
                # a composite type's attribute may be null (only a table's column promises)
                props[attname] = prop if notnull else nullable(prop)
            components[short] = {"type": "object", "properties": props}
            if comment:
                components[short]["description"] = comment
        return {"$ref": f"#/components/schemas/{short}"}
    if typtype == "e":
        labels = [
            r[0]
            for r in conn.execute(
                "select enumlabel::text from pg_enum where enumtypid = %s order by enumsortorder",
                (type_oid,),
            )
        ]
        return {"type": "string", "enum": labels}
    return dict(SCALARS.get(str(name), {"type": "string"}))


def build(url: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    with psycopg.connect(url) as conn:
        revision_row = conn.execute("select version_num from public.alembic_version").fetchone()
        revision = revision_row[0] if revision_row else "unversioned"
        for f in conn.execute(FUNCTIONS).fetchall():
            (name, _oid, comment, volatile, retset, rettype, rettype_name, argnames, argmodes,
             argtypes, nargs, ndefaults, for_users, raised) = f  # fmt: skip
            modes = argmodes or ["i"] * len(argtypes)
            inputs = [
                (n, t)
                for n, t, m in zip(argnames, argtypes, modes, strict=False)
                if m in ("i", "b")
            ]
            outputs = [
                (n, t)
                for n, t, m in zip(argnames, argtypes, modes, strict=False)
                if m in ("o", "b", "t")
            ]
            required = [n for n, _ in inputs[: nargs - ndefaults]]
            body: dict[str, Any] = {
                "type": "object",
                "additionalProperties": False,
                "properties": {n: schema_of(conn, t, components) for n, t in inputs},
            }
            if required:
                body["required"] = required
            if outputs:
                result: dict[str, Any] = {
                    "type": "object",
                    "properties": {n: schema_of(conn, t, components) for n, t in outputs},
                }
            elif rettype_name == "void":
                result = {"type": "null"}
            else:
                result = schema_of(conn, rettype, components)
            if retset:
                result = {"type": "array", "items": result}
            # 404 for every function: PostgREST's PGRST202 when the body's keys name no function;
            # besides, what its own body raises and what the helpers it calls raise (the list)
            statuses = sorted({*ALWAYS_STATUSES, *raised, *EXTRA_STATUSES.get(name, [])})
            unknown = set(statuses) - ERROR_TEXT.keys()
            if unknown:
                raise SystemExit(f"api.{name} answers {sorted(unknown)}: add them to ERROR_TEXT")
            responses: dict[str, Any] = {
                "200": {
                    "description": "The result.",
                    "content": {"application/json": {"schema": result}},
                }
            }
            for status in sorted(statuses):
                responses[status] = {"$ref": f"#/components/responses/Error{status}"}
            who = (
                "signed-in users (by workspace role) and service_role"
                if for_users
                else "service_role only"
            )
            paths[f"/rpc/{name}"] = {
                "post": {
                    "operationId": name,
                    "summary": comment.split(". ")[0][:120],
                    "description": f"{comment}\n\nCallable by {who}."
                    + (
                        ""
                        if volatile
                        else " Read-only (`stable`): PostgREST also serves it as GET."
                    ),
                    "tags": ["rpc"],
                    "requestBody": {
                        "required": bool(required),
                        "content": {"application/json": {"schema": body}},
                    },
                    "responses": responses,
                }
            }
    components_out: dict[str, Any] = {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "apikey": {"type": "apiKey", "in": "header", "name": "apikey"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "description": "PostgREST's error body. For PTxxx errors `code` carries only the status;"
                " branch on `details` (JSON text with `reason` and `field`), see docs/errors.md.",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "examples": ["PT409"]},
                    "message": {"type": "string"},
                    "details": {
                        "type": ["string", "null"],
                        "examples": ['{"reason": "lease_lost", "field": "lease_token"}'],
                    },
                    "hint": {"type": ["string", "null"]},
                },
            },
            **dict(sorted(components.items())),
        },
        "responses": {
            f"Error{status}": {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            for status, text in ERROR_TEXT.items()
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Collab RPC API",
            "version": revision,
            "description": "The `api` schema as PostgREST (Supabase REST) serves it: every function is"
            " `POST /rpc/<name>` with a JSON body of named parameters. Send the user's JWT as"
            " `Authorization: Bearer <jwt>` (and the project's `apikey` on Supabase); the workspace is"
            " the JWT's `workspace_id` claim or the user's only workspace. When `api` is not the first"
            " exposed schema, add `Content-Profile: api`. Errors: docs/errors.md. Generated by"
            " tests/tools/openapi_from_catalog.py.",
        },
        "servers": [
            {"url": "{base}", "variables": {"base": {"default": "http://localhost:54321/rest/v1"}}}
        ],
        "security": [{"bearerAuth": [], "apikey": []}, {"bearerAuth": []}],
        "paths": paths,
        "components": components_out,
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUTPUT
    out.parent.mkdir(parents=True, exist_ok=True)
    spec = build(argv[1])
    out.write_text(
        "# Generated from the api schema by tests/tools/openapi_from_catalog.py; checked by\n"
        "# tests/py/integration/test_openapi.py. Regenerate after changing an api function.\n"
        + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
