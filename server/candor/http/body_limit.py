"""Refuses HTTP requests whose declared body is larger than the server accepts, before reading it."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: ``Content-Length`` over ``max_bytes`` gets a 413 in the API's error shape."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = dict(scope["headers"]).get(b"content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
                await self._refuse(send)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"error": {"code": "body_too_large", "message": f"request bodies are limited to {self.max_bytes} bytes"}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
