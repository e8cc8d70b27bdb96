"""Request helpers shared by the HTTP handlers: the bearer token and a bounded JSON body."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from candor.errors import BadRequest


def token_of(request: Request) -> str | None:
    """``Authorization: Bearer <token>`` or ``?token=`` (links carry it in the query)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("token")


MAX_BODY_BYTES = 256 * 1024


async def json_body(request: Request) -> dict[str, Any]:
    chunks, size = [], 0
    async for chunk in request.stream():  # bodies without a Content-Length are capped while read
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadRequest(f"the request body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body
