"""What every gateway route answers when it fails, shared by gateway.py and its route modules."""

from __future__ import annotations

import asyncio
import json

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
