"""A y-websocket client that keeps its document across connections, as y-websocket does in a browser.

When its connection ends (the process died, or answered 1013), it connects to
the next URL and syncs both ways: its sync step 1 fetches what it missed, and
its answer to the server's sync step 1 re-sends whatever of its own edits the
server does not have. So nothing it wrote is lost, whichever process it lands on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from pycrdt import Doc, Map
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from candor.protocol import (
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)
from candor.protocol.codec import MESSAGE_AUTH


class RoamingClient:
    """``forgetful``: each connection starts from an empty document (a tab opened anew), so it re-sends nothing."""

    def __init__(self, urls: list[str], name: str, *, forgetful: bool = False) -> None:
        self.urls = urls
        self.name = name
        self.forgetful = forgetful
        self.received_at: list[float] = []  # when each update from a server arrived (loop time)
        self.doc: Doc[Any] = Doc()
        self.confirmed: Doc[Any] = Doc()  # only what servers sent
        self.close_codes: list[int | None] = []
        self.connections = 0
        self.synced = asyncio.Event()
        self.written: list[str] = []
        self._ws: ClientConnection | None = None
        self._next = 0

    def keys(self, doc: Doc[Any] | None = None) -> set[str]:
        return set((doc or self.doc).get("notes", type=Map).to_py() or {})

    def confirmed_keys(self) -> set[str]:
        return self.keys(self.confirmed)

    async def write(self, key: str) -> None:
        """Edit the local document; send the update if connected (otherwise the next sync sends it).

        As y-websocket does, an update goes out as soon as the socket is open, synced or not: an edit
        made after this client answered the server's sync step 1 is in no sync message.
        """
        before = self.doc.get_state()
        self.doc.get("notes", type=Map)[key] = self.name
        self.written.append(key)
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(encode_update(self.doc.get_update(before)))

    async def run(self) -> None:
        """Stay connected to one of the URLs until cancelled."""
        while True:
            url = self.urls[self._next % len(self.urls)]
            self._next += 1
            try:
                async with connect(url, max_size=None, open_timeout=2, close_timeout=1) as ws:
                    self.connections += 1
                    if self.forgetful:
                        self.doc = Doc()
                    self._ws = ws
                    await ws.send(encode_sync_step1(self.doc.get_state()))
                    async for frame in ws:
                        await self._handle(ws, frame)
                self.close_codes.append(ws.close_code)
            except ConnectionClosed as exc:  # closed with a code other than 1000/1001, or lost
                self.close_codes.append(exc.rcvd.code if exc.rcvd is not None else None)
            except (OSError, TimeoutError, InvalidHandshake):
                self.close_codes.append(None)
            finally:
                self._ws = None
                self.synced.clear()
            await asyncio.sleep(0.1)

    async def _handle(self, ws: ClientConnection, frame: str | bytes) -> None:
        assert isinstance(frame, bytes)
        if frame[0] == MESSAGE_AUTH:
            return
        message = decode_message(frame)
        if isinstance(message, SyncStep1):
            await ws.send(encode_sync_step2(self.doc.get_update(message.state_vector)))
        elif isinstance(message, (SyncStep2, SyncUpdate)):
            if isinstance(message, SyncUpdate):
                self.received_at.append(asyncio.get_running_loop().time())
            self.doc.apply_update(message.update)
            self.confirmed.apply_update(message.update)
            if isinstance(message, SyncStep2):
                self.synced.set()


@contextlib.asynccontextmanager
async def roaming(clients: list[RoamingClient], within_s: float = 10.0) -> AsyncIterator[None]:
    """Run the clients' connection loops for the block (they are synced when it starts)."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(client.run(), name=f"roaming:{client.name}") for client in clients]
        try:
            async with asyncio.timeout(within_s):
                await asyncio.gather(*(client.synced.wait() for client in clients))
            yield
        finally:
            for task in tasks:
                task.cancel()


async def converged(clients: list[RoamingClient], keys: set[str], within_s: float = 15.0) -> None:
    """Wait until every client's document holds every one of ``keys`` (the others' came from a server)."""
    try:
        async with asyncio.timeout(within_s):
            while any(not keys <= client.keys() for client in clients):
                await asyncio.sleep(0.05)
    except TimeoutError:
        report = [
            f"{c.name}: {len(keys - c.keys())} missing, connections {c.connections}, closes {c.close_codes}"
            for c in clients
        ]
        raise AssertionError("clients did not converge:\n" + "\n".join(report)) from None
