"""A room's mode (an event's board, gated, or a free-form room) follows from its name, whoever loads it first."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_room import RecordingTransport, note_update

from candor.errors import WS_4422_INVALID_UPDATE, InvalidBoard
from candor.ids import Access, Role, RoomId
from candor.log.sqlite import SqliteLog
from candor.protocol import SyncStep1, SyncUpdate
from candor.rooms.peer import Peer
from candor.rooms.registry import RoomRegistry
from candor.rooms.room import RoomSettings

FACILITATOR = Access(Role.FACILITATOR, "facilitator")


async def server_change(registry: RoomRegistry, room: RoomId) -> str:
    """Submit a bare note as the server does (a broadcast, a reveal): "logged" or "refused"."""
    try:
        await registry.submit(room, note_update("s", "server"), FACILITATOR)
    except InvalidBoard:
        return "refused"
    return "logged"


async def connection_change(registry: RoomRegistry, room_id: RoomId, transport: RecordingTransport) -> str:
    """Send a bare note over a connection: "logged" (it comes back) or "refused" (the connection is closed)."""
    peer = Peer(transport, 100)
    pump = asyncio.create_task(peer.pump())
    room = await registry.join(room_id, peer)
    room.receive(peer, SyncStep1(b"\x00"))
    head = room.head
    room.receive(peer, SyncUpdate(note_update("c", "connection")))
    async with asyncio.timeout(5):
        while not peer.closed and room.head == head:
            await asyncio.sleep(0.01)
    registry.leave(room, peer)
    await asyncio.wait([pump], timeout=1)
    pump.cancel()
    return "refused" if peer.closed else "logged"


@pytest.mark.parametrize(
    ("name", "board"),
    [("ev0123abcd-r1", True), ("ev0123abcd-r1~u-ada", True), ("r1", False), ("ev-not-an-event", False)],
)
@pytest.mark.parametrize("first", ["server", "connection"])
async def test_a_rooms_mode_follows_from_its_name_whoever_loads_it_first(
    tmp_path: Path, name: str, board: bool, first: str
) -> None:
    log = SqliteLog(tmp_path / "log.sqlite3")
    transport = RecordingTransport()
    async with RoomRegistry(log, RoomSettings()) as registry:
        room = RoomId(name)
        if first == "server":
            outcomes = [await server_change(registry, room), await connection_change(registry, room, transport)]
        else:
            outcomes = [await connection_change(registry, room, transport), await server_change(registry, room)]
        assert registry.loads == 1  # both went to the one copy loaded first
    await log.close()
    assert outcomes == (["refused", "refused"] if board else ["logged", "logged"])
    if board:
        assert transport.closed is not None and transport.closed[0] == WS_4422_INVALID_UPDATE
