"""Presence from other processes, driven without a socket: relayed to local peers, answered, dropped when stale."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pycrdt import Awareness, Doc

from candor.broker.local import LocalBroker
from candor.ids import RoomId
from candor.log.sqlite import SqliteLog
from candor.protocol import AwarenessUpdate, SyncStep1, decode_message
from candor.rooms.peer import Peer
from candor.rooms.registry import RoomRegistry
from candor.rooms.room import Room, RoomSettings


class RecordingTransport:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    async def send(self, frame: bytes) -> None:
        self.frames.append(frame)

    def send_now(self, frame: bytes) -> bool:
        return False  # everything through the outbox and the pump

    async def close(self, code: int, reason: str) -> None:
        return None

    def presence(self) -> list[dict[int, object]]:
        """Each awareness frame received, as client id -> state (None once removed)."""
        seen = []
        for frame in self.frames:
            message = decode_message(frame)
            if isinstance(message, AwarenessUpdate):
                scratch = Awareness(Doc())
                scratch.apply_awareness_update(message.payload, origin="test")
                ids = set(scratch.meta) - {scratch.client_id}
                seen.append({client: scratch.states.get(client) for client in ids})
        return seen


class RecordingBroker(LocalBroker):
    def __init__(self) -> None:
        self.published: list[bytes] = []

    def publish_awareness(self, room: RoomId, payload: bytes) -> None:
        self.published.append(payload)


def presence_of(state: dict[str, object] | None) -> tuple[int, bytes]:
    """A client's id and an awareness update carrying ``state`` (as another process relays it)."""
    awareness = Awareness(Doc())
    awareness.set_local_state(state)
    return awareness.client_id, awareness.encode_awareness_update([awareness.client_id])


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[tuple[RoomRegistry, RecordingBroker]]:
    log = SqliteLog(tmp_path / "log.sqlite3")
    broker = RecordingBroker()
    async with RoomRegistry(log, RoomSettings(remote_presence_timeout_s=0.3), broker=broker) as registry:
        yield registry, broker
    await log.close()


async def joined(registry: RoomRegistry) -> tuple[Room, Peer, RecordingTransport, asyncio.Task[None]]:
    transport = RecordingTransport()
    peer = Peer(transport, 100)
    room = await registry.join(RoomId("r"), peer)
    room.receive(peer, SyncStep1(b"\x00"))
    return room, peer, transport, asyncio.create_task(peer.pump())


async def test_remote_presence_reaches_local_peers_and_is_dropped_when_not_renewed(
    scene: tuple[RoomRegistry, RecordingBroker],
) -> None:
    registry, broker = scene
    room, _, transport, pump = await joined(registry)
    remote, update = presence_of({"name": "Ada"})
    room.receive_remote_awareness(update)
    await asyncio.sleep(0.05)
    assert transport.presence()[-1] == {remote: {"name": "Ada"}}
    assert broker.published == []  # relayed from elsewhere: never sent back out
    # Ada's process died: nobody renews her state, and the room forgets it.
    async with asyncio.timeout(3):
        while transport.presence()[-1] != {remote: None}:
            await asyncio.sleep(0.05)
    assert remote not in room.presence.awareness.states
    pump.cancel()


async def test_local_presence_is_published_answered_and_withdrawn_on_leaving(
    scene: tuple[RoomRegistry, RecordingBroker],
) -> None:
    registry, broker = scene
    room, peer, _, pump = await joined(registry)
    client, update = presence_of({"name": "Bo"})
    room.receive(peer, AwarenessUpdate(update))
    remote, elsewhere = presence_of({"name": "Ada"})
    room.receive_remote_awareness(elsewhere)
    assert broker.published == [update]
    # Another process asks who is here: only this process's own peers are answered for.
    scratch = Awareness(Doc())
    answer = room.local_awareness()
    assert answer is not None
    scratch.apply_awareness_update(answer, origin="test")
    assert scratch.states.get(client) == {"name": "Bo"} and remote not in scratch.states
    registry.leave(room, peer)
    scratch.apply_awareness_update(broker.published[-1], origin="test")
    assert client not in scratch.states
    assert room.local_awareness() is None
    pump.cancel()
