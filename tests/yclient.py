"""A small y-websocket client over pycrdt for tests: a real Doc behind a real websocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from pycrdt import Awareness, Doc, Map
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from candor.board.transact import transact
from candor.protocol import (
    AwarenessUpdate,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_awareness,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)
from candor.protocol.codec import MESSAGE_AUTH, PermissionDenied, decode_server_message


class YClient:
    """Joins a room, syncs, applies what it receives, and sends its own edits."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.doc = Doc()
        # What the server has sent us, without our own unconfirmed edits.
        self.confirmed: Doc[Any] = Doc()
        self.awareness = Awareness(self.doc)
        self.synced = asyncio.Event()
        self.received_updates: list[bytes] = []
        self.denied: list[bytes] = []
        self.frames: list[bytes] = []  # every frame received, raw
        self.changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @property
    def notes(self) -> Map[Any]:
        return self.doc.get("notes", type=Map)

    async def start(self) -> None:
        await self.ws.send(encode_sync_step1(self.doc.get_state()))

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in self.ws:
                assert isinstance(frame, bytes)
                self.frames.append(frame)
                if frame[0] == MESSAGE_AUTH:
                    self.denied.append(frame)
                    continue
                message = decode_message(frame)
                if isinstance(message, SyncStep1):
                    await self.ws.send(encode_sync_step2(self.doc.get_update(message.state_vector)))
                elif isinstance(message, SyncStep2):
                    self.doc.apply_update(message.update)
                    self.confirmed.apply_update(message.update)
                    self.synced.set()
                elif isinstance(message, SyncUpdate):
                    self.received_updates.append(message.update)
                    self.doc.apply_update(message.update)
                    self.confirmed.apply_update(message.update)
                elif isinstance(message, AwarenessUpdate):
                    self.awareness.apply_awareness_update(message.payload, origin="remote")
                self.changed.set()

    async def edit(self, **notes: Any) -> bytes:
        """Set notes[key] = value for each keyword and send the resulting update."""

        def change(_: Doc[Any]) -> None:
            for key, value in notes.items():
                self.notes[key] = value

        return await self.transact(change)

    async def transact(self, change: Callable[[Doc[Any]], object]) -> bytes:
        """Run ``change(doc)`` in one transaction and send the resulting update (as any Yjs client would)."""
        update = transact(self.doc, change)
        await self.ws.send(encode_update(update))
        return update

    def denied_reasons(self) -> list[str]:
        """The reasons of the permission-denied frames received, in order."""
        return [
            message.reason
            for message in map(decode_server_message, self.denied)
            if isinstance(message, PermissionDenied)
        ]

    async def closed_by_server(self, within_s: float = 5.0) -> tuple[int | None, str]:
        """Wait until the server closes the connection; its close code and reason."""
        async with asyncio.timeout(within_s):
            await asyncio.shield(self._reader)
        return self.ws.close_code, self.ws.close_reason or ""

    async def send_presence(self, state: dict[str, Any] | None) -> None:
        self.awareness.set_local_state(state)
        await self.ws.send(encode_awareness(self.awareness.encode_awareness_update([self.doc.client_id])))

    def presence_of_others(self) -> dict[int, dict[str, Any]]:
        return {cid: s for cid, s in self.awareness.states.items() if cid != self.doc.client_id}

    async def wait_for(self, predicate: Any, within_s: float = 5.0) -> None:
        async with asyncio.timeout(within_s):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    def notes_json(self) -> dict[str, Any]:
        """The notes as this client sees them, its own unconfirmed edits included."""
        return json.loads(json.dumps(self.notes.to_py() or {}))

    def confirmed_notes(self) -> dict[str, Any]:
        """The notes as the server has broadcast them to this client."""
        return json.loads(json.dumps(self.confirmed.get("notes", type=Map).to_py() or {}))

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def close_of(ws: ClientConnection, within_s: float = 10.0) -> tuple[int | None, str]:
    """Read until the server closes ``ws``; its close code and reason."""
    async with asyncio.timeout(within_s):
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()
    return ws.close_code, ws.close_reason or ""


@contextlib.asynccontextmanager
async def yclient(url: str, *, sync: bool = True) -> AsyncIterator[YClient]:
    async with connect(url, max_size=None) as ws:
        client = YClient(ws)
        await client.start()
        if sync:
            await asyncio.wait_for(client.synced.wait(), 5)
        try:
            yield client
        finally:
            await client.close()
