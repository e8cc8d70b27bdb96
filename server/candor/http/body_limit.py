"""The one limit on HTTP request bodies (``--max-http-body-bytes``): over it, a 413 in the API's error shape."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from candor.errors import BodyTooLarge


class BodyLimit:
    """ASGI middleware: a body declared (``Content-Length``) or sent (chunked) over ``max_bytes`` gets a 413.

    A declared size over the limit is refused before a byte is read. A body
    without a declared size is counted as it arrives: the chunk that crosses
    the limit raises :class:`~candor.errors.BodyTooLarge` inside the handler
    reading it, which the app's error handler answers like any other error.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large()(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._error()
            return message

        await self.app(scope, counted, send)

    def _error(self) -> BodyTooLarge:
        return BodyTooLarge(f"request bodies are limited to {self.max_bytes} bytes")

    def _too_large(self) -> JSONResponse:
        error = self._error()
        return JSONResponse({"error": {"code": error.code, "message": error.message}}, error.http_status)
