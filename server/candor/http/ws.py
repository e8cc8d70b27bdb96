"""The websocket endpoint ``/ws/{room}``: decode frames at the edge, hand values to the room."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from candor.errors import (
    BadRoomName,
    CandorError,
    Forbidden,
    MessageTooBig,
    PolicyViolation,
    RoomClosing,
    UnsupportedMessage,
)
from candor.http.direct import MessageSource, direct_socket
from candor.http.services import Services, services
from candor.ids import RoomId, is_valid_room_id
from candor.metrics import Metrics
from candor.protocol import AwarenessUpdate, decode_message
from candor.rooms.limits import PeerLimits, Throttle
from candor.rooms.peer import Peer, PeerState, Transport
from candor.rooms.room import Room
from candor.settings import Settings

logger = logging.getLogger("candor.ws")

CLOSE_GRACE_S = 2.0
M = TypeVar("M")
MAX_REASON_BYTES = 123  # what a close frame holds besides its code


class ConnectionCounter:
    """Open websocket connections per client address, capped."""

    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self._open: Counter[str] = Counter()

    @contextlib.contextmanager
    def held(self, address: str) -> Iterator[bool]:
        """Count a connection for the block; yields False (and counts nothing) when over the cap."""
        if self._open[address] >= self.per_address:
            yield False
            return
        self._open[address] += 1
        try:
            yield True
        finally:
            self._open[address] -= 1
            if not self._open[address]:
                del self._open[address]


class WebSocketTransport:
    """Adapts a Starlette websocket to the peer's Transport: every frame through ASGI."""

    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket

    async def send(self, frame: bytes) -> None:
        await self._ws.send_bytes(frame)

    def send_now(self, frame: bytes) -> bool:
        return False  # an ASGI send is awaited: the peer's pump writes every frame

    async def close(self, code: int, reason: str) -> None:
        if self._ws.application_state is WebSocketState.CONNECTED and self._ws.client_state is WebSocketState.CONNECTED:
            await self._ws.close(code, reason)


class AsgiMessages:
    """A connection's messages taken through ASGI ``receive``: the way when the server offers no direct I/O."""

    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket
        self._reading = asyncio.Event()
        self._reading.set()

    async def deliver_to(self, handle: Callable[[bytes | str], None]) -> int:
        while True:
            await self._reading.wait()  # not receiving meanwhile: the sender is slowed down
            event = await self._ws.receive()
            if event["type"] == "websocket.disconnect":
                code: int = event.get("code", 1000)
                return code
            data = event.get("bytes")
            handle(data if data is not None else event.get("text", ""))

    def pause_reading(self) -> None:
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()


async def websocket_endpoint(websocket: WebSocket) -> None:
    parts = services(websocket)
    name = websocket.path_params["room"]
    await websocket.accept()
    refusal = _refusal(websocket, parts.settings, name)
    if refusal is not None:
        await _refuse(websocket, refusal)
        return
    address = websocket.client.host if websocket.client else "unknown"
    with parts.connections.held(address) as admitted:
        if not admitted:
            error = RoomClosing(f"too many connections from {address}; close some tabs and retry")
            await _refuse(websocket, error)
            return
        await _connect(websocket, parts, name)


async def _refuse(websocket: WebSocket, error: CandorError) -> None:
    """Close with the error's code and message, cut to what a close frame holds (it may name an origin)."""
    await websocket.close(error.ws_close_code, error.message.encode()[:MAX_REASON_BYTES].decode(errors="ignore"))


def _refusal(websocket: WebSocket, settings: Settings, name: str) -> CandorError | None:
    """Why this upgrade must be refused before anything else happens, or None."""
    if not is_valid_room_id(name):
        return BadRoomName("room names are 1-128 letters, digits, '.', '_', '~' or '-'")
    origin = websocket.headers.get("origin")
    if origin is not None and not _origin_allowed(origin, websocket.headers.get("host", ""), settings.allowed_origins):
        return Forbidden(f"pages from {origin} may not open boards on this server")
    return None


def _origin_allowed(origin: str, host: str, allowed: tuple[str, ...]) -> bool:
    """Same origin as the server, or listed with --allowed-origin; non-browser clients send none."""
    return origin.split("://", 1)[-1] == host or origin in allowed or "*" in allowed


async def _connect(websocket: WebSocket, parts: Services, name: str) -> None:
    registry, settings = parts.registry, parts.settings
    try:
        grant = await parts.events.authorize_room(name, websocket.query_params.get("token"))
    except CandorError as exc:
        await _refuse(websocket, exc)
        return
    loaded = registry.rooms.get(RoomId(name))
    if loaded is not None and len(loaded.peers) >= settings.limits.max_peers_per_room:
        full = RoomClosing(f"the room is full ({settings.limits.max_peers_per_room} people); try again later")
        await _refuse(websocket, full)
        return
    direct = direct_socket(websocket.scope)
    transport: Transport = direct if direct is not None else WebSocketTransport(websocket)
    peer = Peer(transport, settings.outbox_limit, access=grant.access)
    try:
        room = await registry.join(RoomId(name), peer)
    except CandorError as exc:
        logger.warning("room %s could not be opened: %s", name, exc.message, extra={"room": name, "reason": exc.code})
        await _refuse(websocket, exc)
        return
    if grant.gated:
        try:
            # The join may have waited while the room was held (an erasure): is the event still there?
            await parts.events.authorize_room(name, websocket.query_params.get("token"))
        except CandorError as exc:
            registry.leave(room, peer)
            await _refuse(websocket, exc)
            return
    messages: MessageSource = direct if direct is not None else AsgiMessages(websocket)
    if direct is not None:
        registry.metrics.direct_connections.inc()
    try:
        await _serve(messages, room, peer, settings, registry.metrics)
    finally:
        registry.leave(room, peer)


async def _serve(messages: MessageSource, room: Room, peer: Peer, settings: Settings, metrics: Metrics) -> None:
    """Run the peer's pump and its receive side, tasks of the connection's group, until either ends."""
    async with asyncio.TaskGroup() as tasks:
        pump = tasks.create_task(_ended(peer.pump(), room, peer), name=f"pump:{peer.id}")
        receive = tasks.create_task(
            _ended(_receive(messages, room, peer, settings, metrics), room, peer), name=f"recv:{peer.id}"
        )
        await asyncio.wait({pump, receive}, return_when=asyncio.FIRST_COMPLETED)
        if receive.done() and peer.closed:
            # The receive side decided to close: let the pump send the close frame and reason.
            await asyncio.wait({pump}, timeout=CLOSE_GRACE_S)
        pump.cancel()
        receive.cancel()


async def _ended(side: Coroutine[Any, Any, None], room: Room, peer: Peer) -> None:
    """Run one side of a connection; how it ended is logged here, never raised into the connection's group."""
    try:
        await side
    except WebSocketDisconnect:
        pass  # a disconnect is control flow, not an error
    except Exception as exc:
        if not _is_closed_socket(exc):
            logger.error("peer %s in room %s failed", peer.id, room.id, exc_info=exc)


def _is_closed_socket(exc: BaseException) -> bool:
    # Sending on a socket the client already closed raises one of these.
    return isinstance(exc, (RuntimeError, OSError)) and not isinstance(exc, NotImplementedError)


class Silence:
    """Closes a connection that says nothing for too long: no sync step 1 in time, or idle.

    One timer per connection, moved on lazily: a message only notes when it
    came. (A timeout around every receive cost a timer and three lookups of the
    running loop per message.)
    """

    def __init__(self, peer: Peer, limits: PeerLimits) -> None:
        self._loop = asyncio.get_running_loop()
        self._peer = peer
        self._limits = limits
        self._receiver = asyncio.current_task()
        self._connected_at = self.heard_at = self._loop.time()
        self._timer = self._loop.call_at(
            self._connected_at + min(limits.sync_timeout_s, limits.idle_timeout_s), self._check
        )

    def heard(self) -> None:
        self.heard_at = self._loop.time()

    def stop(self) -> None:
        self._timer.cancel()

    def _check(self) -> None:
        now = self._loop.time()
        syncing = self._peer.state is PeerState.CONNECTED
        idle_at = self.heard_at + self._limits.idle_timeout_s
        sync_at = self._connected_at + self._limits.sync_timeout_s
        due = min(idle_at, sync_at) if syncing else idle_at
        if now < due:
            self._timer = self._loop.call_at(due, self._check)
            return
        reason = "no sync step 1 after connecting" if syncing and now >= sync_at else "idle for too long"
        self._peer.fail(PolicyViolation(reason))
        if self._receiver is not None:
            self._receiver.cancel()  # the pump then sends the close frame with the reason


class Inbound:
    """A connection's messages on their way to its room: checked, throttled, decoded, handed over in order.

    The message source calls :meth:`take` with each message. One the sender
    must wait for (throttled) is held, and the source hands over nothing more,
    until the wait is over: meanwhile the sender finds the connection full.
    """

    def __init__(
        self, room: Room, peer: Peer, settings: Settings, metrics: Metrics, silence: Silence, source: MessageSource
    ) -> None:
        self._room = room
        self._peer = peer
        self._max_message_bytes = settings.max_message_bytes
        self._max_awareness_bytes = settings.limits.max_awareness_bytes
        self._metrics = metrics
        self._silence = silence
        self._source = source
        self._throttle = Throttle(settings.limits)
        self._receiver = asyncio.current_task()
        self._held: asyncio.TimerHandle | None = None

    def take(self, data: bytes | str) -> None:
        if self._peer.closed:
            return
        self._silence.heard()
        self._guarded(self._take, data)

    def stop(self) -> None:
        if self._held is not None:
            self._held.cancel()
            self._held = None

    def _take(self, data: bytes | str) -> None:
        wait = self._check(data)
        assert isinstance(data, bytes)
        if wait > 0:
            self._source.pause_reading()
            self._held = asyncio.get_running_loop().call_later(wait, self._release, data)
            return
        self._hand_over(data)

    def _check(self, data: bytes | str) -> float:
        """Seconds the sender must wait before this message is taken (mostly 0); raises what refuses it."""
        if not isinstance(data, bytes):
            raise UnsupportedMessage("y-websocket frames are binary, not text")
        if len(data) > self._max_message_bytes:
            raise MessageTooBig(f"message of {len(data)} bytes is over the {self._max_message_bytes}-byte limit")
        return self._throttle.delay(len(data))

    def _hand_over(self, frame: bytes) -> None:
        message = decode_message(frame)
        if isinstance(message, AwarenessUpdate) and len(message.payload) > self._max_awareness_bytes:
            raise MessageTooBig(f"presence state over the {self._max_awareness_bytes}-byte limit")
        self._metrics.received(type(message).__name__)
        self._room.receive(self._peer, message)

    def _release(self, frame: bytes) -> None:
        self._held = None
        if not self._peer.closed:
            self._guarded(self._hand_over, frame)
        self._source.resume_reading()  # hands over what was read behind it, in order

    def _guarded(self, step: Callable[[M], None], data: M) -> None:
        """Run ``step``; what refuses a message closes the connection with the reason."""
        try:
            step(data)
        except CandorError as exc:  # malformed, flooding, presence past its caps: the close says which
            self._fail(exc)
        except Exception:
            logger.exception("peer %s in room %s: a message could not be handled", self._peer.id, self._room.id)
            self._fail(CandorError("the server could not handle a message"))

    def _fail(self, error: CandorError) -> None:
        self._peer.fail(error)
        if self._receiver is not None:
            self._receiver.cancel()  # the pump then sends the close frame with the reason


async def _receive(messages: MessageSource, room: Room, peer: Peer, settings: Settings, metrics: Metrics) -> None:
    silence = Silence(peer, settings.limits)
    inbound = Inbound(room, peer, settings, metrics, silence, messages)
    try:
        code = await messages.deliver_to(inbound.take)
        peer.close(code, "")
    finally:
        silence.stop()
        inbound.stop()
