"""What every gateway route answers when it fails, and the CORS rules, shared by gateway.py, its
route modules and the nginx front (collab.stack_nginx, which renders them into nginx.conf)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from starlette.responses import JSONResponse

# Transport failures of the upstream call (PostgREST down, reset, timed out).
UPSTREAM_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


def error(status: int, reason: str, message: str, hint: str | None = None) -> JSONResponse:
    """An error of the gateway itself, shaped as PostgREST's (supabase-py needs all four keys)."""
    return JSONResponse(
        {
            "code": f"PT{status}",
            "message": message,
            "details": json.dumps({"reason": reason}),
            "hint": hint,
        },
        status_code=status,
    )


def unreachable(exc: Exception | str) -> JSONResponse:
    """PostgREST did not answer (Kong's 502): the exception, or what the nginx front saw."""
    what = exc if isinstance(exc, str) else type(exc).__name__
    return error(
        502,
        "upstream_unavailable",
        f"PostgREST did not answer: {what}",
        "see .collab/stack/postgrest.log; `collab stack up` starts it again",
    )


# The answers of Kong's key-auth, in the gateway and in the nginx front, byte for byte.
def no_api_key() -> JSONResponse:
    return error(
        401,
        "no_api_key",
        "No API key found in request",
        "send the project's anon or service_role key in the apikey header (or ?apikey=)",
    )


def invalid_api_key() -> JSONResponse:
    return error(
        401,
        "invalid_api_key",
        "Invalid API key",
        "use the anon or service_role key that `collab stack status` prints",
    )


# CORS as Supabase's: any origin, preflights answered by the gateway (Starlette's middleware)
# or by nginx (the same answers, tests/py/rest/test_nginx_front.py).
CORS_EXPOSE = [
    "Content-Range",
    "Content-Type",
    "Location",
    "Range-Unit",
    "Retry-After",
    "Preference-Applied",
    "Content-Profile",
]
CORS: dict[str, Any] = {
    "allow_origins": ["*"],
    "allow_methods": ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
    "allow_headers": ["*"],
    "expose_headers": CORS_EXPOSE,
    "max_age": 86400,
}
