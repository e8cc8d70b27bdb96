"""A websocket connection's messages between the parser and their consumer: in order, each once, read ahead a little."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

WS_1006_ABNORMAL = 1006


class Inbox:
    """Messages parsed and not yet handed over, to a direct consumer or to whoever awaits :meth:`get`.

    A direct consumer (:meth:`deliver_to`) is handed each message as it is put,
    unless it paused or earlier ones still wait. The socket is read until
    ``max_queue`` messages wait, then not until fewer do; once the connection
    has ended it is always read (a closing handshake needs the client's answer).
    """

    def __init__(self, max_queue: int, read: Callable[[bool], None]) -> None:
        self._max_queue = max_queue
        self._read = read  # read(False) stops reading the socket, read(True) reads on
        self._waiting: deque[bytes | str] = deque()
        self._handle: Callable[[bytes | str], None] | None = None
        self._held = False  # the direct consumer takes nothing for now
        self._reading = True
        self._arrived = asyncio.Event()
        self._done = asyncio.get_running_loop().create_future()  # ended, and every message handed over
        self.ended: tuple[int, str] | None = None  # the close code and reason the consumer is told

    def put(self, message: bytes | str) -> None:
        if self.ended is not None:
            return  # the application closed the connection: discarded
        if self._handle is not None and not self._held and not self._waiting:
            self._handle(message)
            return
        self._waiting.append(message)
        self._arrived.set()
        self._flow()

    def end(self, code: int, reason: str, *, drop: bool = False) -> None:
        """The connection is over for its consumer (the first cause counts); ``drop`` what still waits."""
        if self.ended is not None:
            return
        self.ended = (code, reason)
        if drop:
            self._waiting.clear()
        self._arrived.set()
        self._flow()
        self._settle()

    async def get(self) -> bytes | str | None:
        """The next message, waiting for one; None once the connection has ended and none is left."""
        while not self._waiting and self.ended is None:
            self._arrived.clear()
            await self._arrived.wait()
        if not self._waiting:
            return None
        message = self._waiting.popleft()
        self._flow()
        return message

    async def deliver_to(self, handle: Callable[[bytes | str], None]) -> int:
        """Hand each message to ``handle`` as it is put, until the connection ends; its close code."""
        self._handle = handle
        try:
            self._drain()
            await asyncio.shield(self._done)
        finally:
            self._handle = None  # the handle holds the room: no cycle through this connection
        return (self.ended or (WS_1006_ABNORMAL, ""))[0]

    def pause(self) -> None:
        self._held = True

    def resume(self) -> None:
        self._held = False
        self._drain()

    def _drain(self) -> None:
        while self._waiting and self._handle is not None and not self._held:
            self._handle(self._waiting.popleft())
        self._flow()
        self._settle()

    def _flow(self) -> None:
        # A consumer that paused is handed nothing, but the socket is still read up to the bound: the
        # messages it takes next are at hand when it resumes. (Not reading at all until it had caught up
        # left it with none for as long as the sender's buffers, full from the pause, took to move.)
        reading = self.ended is not None or len(self._waiting) < self._max_queue
        if reading != self._reading:
            self._reading = reading
            self._read(reading)

    def _settle(self) -> None:
        if self.ended is not None and not self._waiting and not self._done.done():
            self._done.set_result(None)
