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

Binary messages coming in take a direct way too (:class:`DirectReader`).
Through ASGI, uvicorn queued each one, stopped reading from the socket, woke
the task waiting for it and started reading again: two system calls and a
turn of the loop per message, before the room even saw it. Now the protocol's
own callback hands the message's bytes over as soon as it is parsed. Text
messages, close frames and disconnects still arrive through ASGI.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

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


class DirectReader:
    """Hands one connection's binary messages to ``handle`` inside the protocol's data callback."""

    def __init__(self, protocol: WebSocketsSansIOProtocol, handle: Callable[[bytes], None]) -> None:
        self._protocol = protocol
        self._handle = handle
        self._paused: asyncio.TimerHandle | None = None
        self.started = False

    @classmethod
    def of(cls, scope: Scope, handle: Callable[[bytes], None]) -> DirectReader | None:
        """A reader for the connection, or None when it is not served by uvicorn's sans-I/O protocol."""
        protocol = getattr(scope.get(SERVER_SEND), "__self__", None)
        return cls(protocol, handle) if isinstance(protocol, WebSocketsSansIOProtocol) else None

    def start(self) -> bool:
        """Take binary messages from now on, once ASGI holds none (none is overtaken); True if it just did."""
        if self.started or not self._protocol.queue.empty():
            return False
        # Shadows the protocol's method for this connection alone.
        self._protocol.send_receive_event_to_app = self._received  # type: ignore[method-assign]
        self.started = True
        return True

    def stop(self) -> None:
        self._protocol.__dict__.pop("send_receive_event_to_app", None)
        if self._paused is not None:
            self._paused.cancel()
            self._paused = None

    def pause(self, seconds: float, then: Callable[[], None]) -> None:
        """Read nothing more from the socket for ``seconds``, then call ``then`` and read on."""
        self._protocol.transport.pause_reading()
        self._paused = asyncio.get_running_loop().call_later(seconds, self._unpause, then)

    def _unpause(self, then: Callable[[], None]) -> None:
        self._paused = None
        transport = self._protocol.transport
        if not transport.is_closing() and not self._protocol.read_paused:  # (uvicorn's own pause stays)
            transport.resume_reading()
        then()

    def _received(self) -> None:
        protocol = self._protocol
        if protocol.curr_msg_data_type != "bytes" or protocol.close_sent:
            WebSocketsSansIOProtocol.send_receive_event_to_app(protocol)  # through ASGI, as before
            return
        frames, protocol.frames = protocol.frames, []
        self._handle(frames[0] if len(frames) == 1 else b"".join(frames))


@functools.lru_cache(maxsize=1)
def _framed(payload: bytes) -> bytes:
    # A broadcast hands every peer the same bytes: they are framed once. Server frames are
    # never masked, and an uncompressed frame is valid whatever extensions were agreed.
    return Frame(Opcode.BINARY, payload).serialize(mask=False)
