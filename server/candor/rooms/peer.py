"""One connection: a pseudonymous id, a lifecycle, and a bounded outbox drained by its pump."""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Iterable
from enum import Enum
from typing import Protocol

from candor.errors import CandorError, PeerTooSlow
from candor.ids import OPEN_ACCESS, Access, PeerId


class Transport(Protocol):
    """What a peer needs from its connection; the http layer provides it."""

    async def send(self, frame: bytes) -> None: ...

    def send_now(self, frame: bytes) -> bool:
        """Write ``frame`` at once if the connection takes it without waiting; False if it must wait for ``send``."""
        ...

    async def close(self, code: int, reason: str) -> None: ...


class PeerState(Enum):
    CONNECTED = "connected"  # attached to a room, not yet in its broadcast set
    SYNCED = "synced"  # its sync step 2 is queued; it receives every broadcast
    CLOSED = "closed"


def send_all(peers: Iterable[Peer], frame: bytes, skip: Peer | None = None) -> int:
    """Send ``frame`` to each of ``peers`` but ``skip``, in their order; how many it went to."""
    sent = 0
    for peer in peers:
        if peer is not skip:
            peer.send(frame)
            sent += 1
    return sent


def new_peer_id() -> PeerId:
    """A fresh pseudonym: identifies the connection in the log, reveals nothing."""
    return PeerId("p-" + secrets.token_urlsafe(9))


class Peer:
    """A connection's outbound side.

    ``send`` never blocks. While the pump has nothing in hand, a frame is written
    at once if the transport takes it without waiting (the common case, and no
    task switch per peer); otherwise it goes to a bounded outbox that :meth:`pump`
    writes to the transport in order, and later frames queue behind it. A peer
    whose outbox is full is closed with :class:`PeerTooSlow` (it resyncs on
    reconnect) instead of buffering without limit.
    """

    def __init__(
        self,
        transport: Transport,
        outbox_limit: int,
        peer_id: PeerId | None = None,
        access: Access = OPEN_ACCESS,
    ) -> None:
        self.id = peer_id or new_peer_id()
        self.access = access
        self.state = PeerState.CONNECTED
        self._transport = transport
        self._outbox: deque[bytes] = deque()
        self._outbox_limit = outbox_limit
        self._wakeup = asyncio.Event()
        self._close_request: tuple[int, str] | None = None
        self._pump_idle = False  # the pump is waiting for frames, holding none: a frame may skip the outbox
        self._pump: asyncio.Task[None] | None = None  # the task running :meth:`pump`, while it runs

    def __repr__(self) -> str:
        return f"Peer({self.id}, {self.state.value})"

    @property
    def closed(self) -> bool:
        return self.state is PeerState.CLOSED

    def mark_synced(self) -> None:
        if self.state is not PeerState.CONNECTED:
            raise RuntimeError(f"expected peer state {PeerState.CONNECTED.value}, got {self.state.value}")
        self.state = PeerState.SYNCED

    def send(self, frame: bytes) -> None:
        """Write a frame now or queue it; overflowing the outbox closes the peer."""
        if self.state is PeerState.CLOSED:
            return
        if len(self._outbox) >= self._outbox_limit:
            self.fail(PeerTooSlow("too far behind: reconnect to resync"))
            if self._pump is not None:
                # Its socket is full: a close frame would never get through either. The pump's owner
                # (the connection's task group) sees it end and closes the connection.
                self._pump.cancel()
            return
        if self._pump_idle and not self._outbox and self._transport.send_now(frame):
            return
        self._outbox.append(frame)
        self._wakeup.set()

    def fail(self, error: CandorError, *, drain: bool = False) -> None:
        """Close the connection with the error's close code and message."""
        self.close(error.ws_close_code, error.message, drain=drain)

    def close(self, code: int, reason: str, *, drain: bool = False) -> None:
        """Close after the frames already queued (``drain``) or at once, dropping them."""
        if self.state is PeerState.CLOSED:
            return
        self.state = PeerState.CLOSED
        if not drain:
            self._outbox.clear()
        # A close reason may hold at most 123 bytes.
        self._close_request = (code, reason.encode()[:123].decode(errors="ignore"))
        self._wakeup.set()

    async def pump(self) -> None:
        """Write queued frames in order until the peer is closed; run it as a task of its own.

        A peer that falls too far behind cancels this task: a pump stuck
        writing to a reader that stopped reading would never end otherwise.
        """
        self._pump = asyncio.current_task()
        try:
            await self._write_all()
        finally:
            self._pump = None

    async def _write_all(self) -> None:
        while True:
            while self._outbox:
                await self._transport.send(self._outbox.popleft())
            if self._close_request is not None:
                await self._transport.close(*self._close_request)
                return
            self._wakeup.clear()
            self._pump_idle = True
            try:
                await self._wakeup.wait()
            finally:
                self._pump_idle = False
