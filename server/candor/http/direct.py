"""Frames written straight to a websocket's socket, beside ASGI, when the socket takes them at once.

A room sends the same frame to each of its peers. Through ASGI every one of
those sends is a task wakeup plus four awaited layers (Starlette's WebSocket,
its exception wrapper, uvicorn's protocol, websockets' framing); in a busy room
that was most of the server's time. When the connection is served by uvicorn's
sans-I/O websockets protocol (the one ``candor serve`` selects), a frame is
serialized once per broadcast with websockets' own ``Frame`` and written to
each socket's transport directly.

Only data frames take this way, and only while the socket is open and not
paused: the handshake, close frames and anything sent while a slow reader's
socket is full still go through ASGI, after what was already queued there (see
``Peer.send``). A connection served any other way simply has no direct writer.
"""

from __future__ import annotations

import functools

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode

SERVER_SEND = "candor.server_send"


class KeepServerSend:
    """ASGI middleware: remembers the server's own ``send`` of each websocket in its scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)


class DirectWriter:
    """Writes binary frames to one accepted connection's socket without going through ASGI."""

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    @classmethod
    def of(cls, scope: Scope) -> DirectWriter | None:
        """The connection's direct writer, or None when it is not served by uvicorn's sans-I/O protocol."""
        protocol = getattr(scope.get(SERVER_SEND), "__self__", None)
        return cls(protocol) if isinstance(protocol, WebSocketsSansIOProtocol) else None

    def write(self, payload: bytes) -> bool:
        """Write ``payload`` as one binary message if the socket takes it now; False if it must wait."""
        protocol = self._protocol
        if (
            not protocol.handshake_complete
            or protocol.close_sent
            or protocol.disconnected
            or not protocol.writable.is_set()  # paused: the reader is behind
            or protocol.transport.is_closing()
        ):
            return False
        protocol.transport.write(_framed(payload))
        return True


@functools.lru_cache(maxsize=1)
def _framed(payload: bytes) -> bytes:
    # A broadcast hands every peer the same bytes: they are framed once. Server frames are
    # never masked, and an uncompressed frame is valid whatever extensions were agreed.
    return Frame(Opcode.BINARY, payload).serialize(mask=False)
