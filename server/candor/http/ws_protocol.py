"""Candor's websocket protocol class for uvicorn: ASGI websockets, plus direct I/O for the endpoint.

uvicorn builds one per upgraded connection (``uvicorn.Config(ws=...)``) with
its config and the server's shared state, as it does its own classes. Bytes are
parsed and framed by websockets' Sans-I/O ``ServerProtocol``; this class moves
them between it, the socket and the application.

The application sees an ordinary ASGI websocket. The scope also carries the
connection itself under :data:`~candor.http.direct.DIRECT_IO`: once accepted,
the endpoint may take messages as they are parsed (:meth:`deliver_to`) and
write frames straight to the socket (:meth:`send_now`), with no task switch and
no ASGI message on either way. Each message goes one way only: to the direct
consumer while there is one, else to ASGI ``receive`` (the connection's
:class:`~candor.http.ws_inbox.Inbox` keeps them in order until then).

No extension (permessage-deflate) is negotiated: y-websocket messages are small
binary updates, and a frame without extension bits is the same for every
connection, so a broadcast is framed once for all of its peers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol

from candor.http.direct import DIRECT_IO, DirectSocket
from candor.http.ws_inbox import WS_1006_ABNORMAL, Inbox

if TYPE_CHECKING:
    from uvicorn import Config
    from uvicorn.server import ServerState

logger = logging.getLogger("candor.ws_protocol")

# How long a closing handshake may take before the socket is closed anyway.
CLOSE_TIMEOUT_S = 10.0
MAX_REASON_BYTES = 123  # what a close frame holds besides its code
WS_1007_INVALID_DATA = 1007
WS_1011_INTERNAL_ERROR = 1011
WS_1012_SERVICE_RESTART = 1012

_BINARY, _TEXT, _CONT, _PONG = Opcode.BINARY, Opcode.TEXT, Opcode.CONT, Opcode.PONG

# Frames every broadcast once (see _framed); it never reads, so it stays open.
_framer = ServerProtocol(state=State.OPEN, logger=logger)


@functools.lru_cache(maxsize=1)
def _framed(payload: bytes) -> bytes:
    # A room hands each of its peers the same bytes object: framed once per broadcast.
    _framer.send_binary(payload)
    return b"".join(_framer.data_to_send())


class DirectWebSocketProtocol(asyncio.Protocol):
    """One websocket connection: the ASGI interface for any application, direct I/O for Candor's endpoint."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self._app = config.loaded_app
        self._root_path = config.root_path
        self._ping_interval_s = config.ws_ping_interval
        self._ping_timeout_s = config.ws_ping_timeout
        self._app_state = app_state
        self._server_state = server_state
        self._loop = _loop or asyncio.get_running_loop()
        self._conn = ServerProtocol(max_size=config.ws_max_size, logger=logger)
        self._open = False  # the handshake is done and no close was sent or received (see _flush)
        self._transport: asyncio.Transport | None = None
        self._inbox = Inbox(config.ws_max_queue, self._read)
        self._response: Response | None = None  # the 101, sent when the application accepts
        self._connect_sent = False  # ASGI's websocket.connect went to the application
        self._fragments = bytearray()  # the parts of a message so far
        self._fragment_opcode = _BINARY
        self._writable = asyncio.Event()
        self._writable.set()
        self._close_timer: asyncio.TimerHandle | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        self._pong_timer: asyncio.TimerHandle | None = None
        self._ping_payload: bytes | None = None

    # -- asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # (uvloop's are not asyncio's subclasses)
        self._server_state.connections.add(self)  # type: ignore[arg-type]  # (typed as uvicorn's own classes)

    def connection_lost(self, exc: Exception | None) -> None:
        self._open = False
        self._server_state.connections.discard(self)
        for timer in (self._close_timer, self._ping_timer, self._pong_timer):
            if timer is not None:
                timer.cancel()
        self._conn.receive_eof()
        # The code and reason of the client's close frame; 1006 when it sent none.
        self._inbox.end(self._conn.close_code or WS_1006_ABNORMAL, self._conn.close_reason or "")
        self._writable.set()  # a sender waiting for the buffer to drain learns the connection is gone

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def data_received(self, data: bytes) -> None:
        self._conn.receive_data(data)
        self._flush()
        for event in self._conn.events_received():
            if not isinstance(event, Frame):
                self._start(event)  # (the handshake request: a server receives nothing else)
                continue
            opcode = event.opcode
            if opcode is _BINARY and event.fin and not self._fragments:
                self._inbox.put(bytes(event.data))  # a whole binary message: nearly every one
            elif opcode is _TEXT or opcode is _BINARY or opcode is _CONT:
                self._fragment(event)
            elif opcode is _PONG:
                self._ponged(bytes(event.data))
        # (A close frame from the client was answered by the flush, which closed the socket:
        # connection_lost tells the application, after the messages that came before it.)

    def eof_received(self) -> bool | None:
        return None  # the transport closes itself; connection_lost follows

    def shutdown(self) -> None:
        """The server is stopping: close with 1012 (service restart), or refuse a handshake still pending."""
        if self._conn.state is State.OPEN:
            self._conn.send_close(WS_1012_SERVICE_RESTART)
            self._flush()
            self._inbox.end(WS_1012_SERVICE_RESTART, "", drop=True)
        if self._transport is not None:
            self._transport.close()

    # -- the handshake and ASGI

    def _start(self, request: Request | Response) -> None:
        assert isinstance(request, Request)
        response = self._conn.accept(request)
        if response.status_code != 101:  # not a websocket handshake: answered and closed
            self._conn.send_response(response)
            self._flush()
            return
        self._response = response
        transport = self._transport
        assert transport is not None
        raw_path, _, query = request.path.partition("?")
        offered = request.headers.get_all("Sec-WebSocket-Protocol")
        direct: DirectSocket = self
        scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "wss" if transport.get_extra_info("sslcontext") else "ws",
            "server": _address(transport.get_extra_info("sockname")),
            "client": _address(transport.get_extra_info("peername")),
            "root_path": self._root_path,
            "path": self._root_path + unquote(raw_path),
            # (websockets decoded the request line as ASCII with surrogate escapes: these are its bytes again)
            "raw_path": raw_path.encode("ascii", "surrogateescape"),
            "query_string": query.encode("ascii", "surrogateescape"),
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.raw_items()],
            "subprotocols": [token.strip() for field in offered for token in field.split(",")],
            "state": self._app_state.copy(),
            "extensions": {DIRECT_IO: direct},
        }
        task = self._loop.create_task(self._run_asgi(scope))
        self._server_state.tasks.add(task)
        task.add_done_callback(self._server_state.tasks.discard)

    async def _run_asgi(self, scope: dict[str, Any]) -> None:
        try:
            await self._app(scope, self.asgi_receive, self.asgi_send)
        except Exception:
            logger.exception("the websocket application failed")
            self._refuse(500)
        else:
            if self._conn.state is State.CONNECTING:
                logger.error("the websocket application returned without accepting or closing")
                self._refuse(500)
        if self._close_timer is None and self._transport is not None:
            # No closing handshake under way: the connection ends with the application. What a reader
            # that stopped reading has not taken would never drain: dropped, not kept waiting.
            if self._writable.is_set():
                self._transport.close()
            else:
                self._transport.abort()

    def _refuse(self, status: int) -> None:
        if self._conn.state is State.CONNECTING and self._transport is not None and not self._transport.is_closing():
            self._conn.send_response(self._conn.reject(status, ""))
            self._flush()
        self._inbox.end(WS_1006_ABNORMAL, "")

    async def asgi_receive(self) -> dict[str, Any]:
        """ASGI ``receive``: the connect event, then messages the direct consumer does not take, then the end."""
        if not self._connect_sent:
            self._connect_sent = True
            return {"type": "websocket.connect"}
        message = await self._inbox.get()
        if message is not None:
            return {"type": "websocket.receive", "bytes" if isinstance(message, bytes) else "text": message}
        code, reason = self._inbox.ended or (WS_1006_ABNORMAL, "")
        return {"type": "websocket.disconnect", "code": code, "reason": reason}

    async def asgi_send(self, message: dict[str, Any]) -> None:
        """ASGI ``send``: accept or refuse the handshake, then send messages or close."""
        kind = message["type"]
        if self._conn.state is State.CONNECTING:
            if kind == "websocket.accept":
                self._accept(message)
            elif kind == "websocket.close":
                self._refuse(403)
            else:
                raise RuntimeError(f"expected websocket.accept or websocket.close, got {kind}")
            return
        if kind == "websocket.send":
            await self._writable.wait()
            self._check_open()
            if message.get("bytes") is not None:
                self._conn.send_binary(message["bytes"])
            else:
                self._conn.send_text(message["text"].encode())
            self._flush()
        elif kind == "websocket.close":
            await self.close(message.get("code") or 1000, message.get("reason") or "")
        else:
            raise RuntimeError(f"expected websocket.send or websocket.close, got {kind}")

    def _accept(self, message: dict[str, Any]) -> None:
        response = self._response
        assert response is not None
        for name, value in [*self._server_state.default_headers, *message.get("headers", [])]:
            if name.lower() != b"date":  # websockets dated the response already
                response.headers[name.decode("latin-1")] = value.decode("latin-1")
        if message.get("subprotocol"):
            response.headers["Sec-WebSocket-Protocol"] = message["subprotocol"]
        if self._transport is None or self._transport.is_closing():
            self._inbox.end(WS_1006_ABNORMAL, "")
            return
        self._conn.send_response(response)
        self._flush()
        self._schedule_ping()

    # -- direct I/O (DirectSocket)

    async def deliver_to(self, handle: Callable[[bytes | str], None]) -> int:
        """Hand each message to ``handle`` as it is parsed, until the connection ends; its close code."""
        return await self._inbox.deliver_to(handle)

    def pause_reading(self) -> None:
        self._inbox.pause()

    def resume_reading(self) -> None:
        self._inbox.resume()

    def send_now(self, frame: bytes) -> bool:
        """Write ``frame`` as one binary message if the socket takes it now; False if it must wait for :meth:`send`."""
        transport = self._transport
        if not self._open or not self._writable.is_set() or transport is None or transport.is_closing():
            return False
        transport.write(_framed(frame))
        return True

    async def send(self, frame: bytes) -> None:
        """Write ``frame`` as one binary message once the socket takes more; raises if the connection is closed."""
        await self._writable.wait()
        self._check_open()
        assert self._transport is not None
        if not self._transport.is_closing():
            self._transport.write(_framed(frame))

    async def close(self, code: int, reason: str) -> None:
        """Start the closing handshake (once); the connection ends for the application at once."""
        if self._conn.state is not State.OPEN:
            return
        self._conn.send_close(code, reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore"))
        self._flush()
        self._inbox.end(code, reason, drop=True)  # the application is done: what it did not read is dropped

    # -- moving bytes and messages

    def _check_open(self) -> None:
        if self._conn.state is not State.OPEN:
            raise ConnectionResetError("the websocket connection is closed")

    def _flush(self) -> None:
        """Write what websockets has to send; called after each of its calls, so ``_open`` follows its state."""
        writes = self._conn.data_to_send()
        if not writes:
            return  # (its state changes only with something to send: a response, a close, the end)
        self._open = self._conn.state is State.OPEN
        transport = self._transport
        assert transport is not None
        for data in writes:
            if transport.is_closing():
                break
            if data:
                transport.write(data)
            else:  # end of stream: a server closes the TCP connection first
                transport.close()
        if self._close_timer is None and self._conn.close_expected():
            # A client that never answers the close, or never reads it, is dropped.
            self._close_timer = self._loop.call_later(CLOSE_TIMEOUT_S, transport.abort)

    def _fragment(self, frame: Frame) -> None:
        """A text message, or a part of a message: put together, then handed over whole."""
        if frame.opcode is not _CONT:
            self._fragment_opcode = frame.opcode
        # One buffer, not a list of parts: a megabyte sent one byte per frame stays a megabyte.
        # (websockets bounds the parts together by ws_max_size.)
        self._fragments += frame.data
        if not frame.fin:
            return
        data = bytes(self._fragments)
        self._fragments.clear()
        if self._fragment_opcode is _BINARY:
            self._inbox.put(data)
            return
        try:
            self._inbox.put(data.decode())
        except UnicodeDecodeError:
            self._conn.fail(WS_1007_INVALID_DATA, "text message is not UTF-8")
            self._flush()

    def _read(self, on: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if on:
            transport.resume_reading()
        else:
            transport.pause_reading()

    # -- keepalive

    def _schedule_ping(self) -> None:
        if self._ping_interval_s:
            self._ping_timer = self._loop.call_later(self._ping_interval_s, self._ping)

    def _ping(self) -> None:
        self._ping_timer = None
        if self._conn.state is not State.OPEN:
            return
        self._ping_payload = os.urandom(4)
        self._conn.send_ping(self._ping_payload)
        self._flush()
        if self._ping_timeout_s:
            self._pong_timer = self._loop.call_later(self._ping_timeout_s, self._no_pong)
        else:
            self._schedule_ping()

    def _ponged(self, payload: bytes) -> None:
        if payload != self._ping_payload or self._pong_timer is None:
            return  # unsolicited, or an answer to an older ping
        self._pong_timer.cancel()
        self._pong_timer = self._ping_payload = None
        self._schedule_ping()

    def _no_pong(self) -> None:
        self._pong_timer = None
        if self._conn.state is not State.OPEN:
            return
        self._conn.fail(WS_1011_INTERNAL_ERROR, "keepalive ping timeout")
        self._flush()


def _address(info: Any) -> tuple[str, int] | None:
    return (str(info[0]), int(info[1])) if isinstance(info, tuple) and len(info) >= 2 else None
