"""The room core driven without a socket: a transport that records frames."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pycrdt import Doc, Map

from candor.errors import WS_4408_TOO_SLOW
from candor.ids import RoomId
from candor.log.sqlite import SqliteLog
from candor.protocol import SyncStep1, SyncStep2, SyncUpdate, decode_message
from candor.rooms.peer import Peer, PeerState
from candor.rooms.registry import RoomRegistry
from candor.rooms.room import RoomSettings


class RecordingTransport:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.closed: tuple[int, str] | None = None

    async def send(self, frame: bytes) -> None:
        self.frames.append(frame)

    def send_now(self, frame: bytes) -> bool:
        return False  # everything through the outbox and the pump

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


def note_update(key: str, value: str) -> bytes:
    doc: Doc[Map[str]] = Doc()
    doc["notes"] = notes = Map()
    notes[key] = value
    return doc.get_update()


async def test_peer_joins_broadcast_set_only_after_its_step2(tmp_path: Path) -> None:
    log = SqliteLog(tmp_path / "log.sqlite3")
    async with RoomRegistry(log, RoomSettings()) as registry:
        writer_t, joiner_t = RecordingTransport(), RecordingTransport()
        writer, joiner = Peer(writer_t, 100), Peer(joiner_t, 100)
        pumps = [asyncio.create_task(writer.pump()), asyncio.create_task(joiner.pump())]
        room = await registry.join(RoomId("r"), writer)
        room.receive(writer, SyncStep1(b"\x00"))
        await registry.join(RoomId("r"), joiner)
        room.receive(writer, SyncUpdate(note_update("a", "1")))
        room.receive(joiner, SyncStep1(b"\x00"))
        room.receive(writer, SyncUpdate(note_update("b", "2")))
        await asyncio.sleep(0.2)

        kinds = [type(decode_message(f)).__name__ for f in joiner_t.frames]
        # greeting step 1, then a step 2 holding update a, then update b only.
        assert kinds == ["SyncStep1", "SyncStep2", "SyncUpdate"]
        step2 = decode_message(joiner_t.frames[1])
        assert isinstance(step2, SyncStep2)
        check: Doc[Map[str]] = Doc()
        check.apply_update(step2.update)
        assert check.get("notes", type=Map).to_py() == {"a": "1"}
        assert joiner.state is PeerState.SYNCED
        assert room.head == 2

        for pump in pumps:
            pump.cancel()
    await log.close()


async def test_a_peer_whose_outbox_overflows_is_closed_as_too_slow() -> None:
    transport = RecordingTransport()
    peer = Peer(transport, outbox_limit=3)
    for _ in range(4):
        peer.send(b"frame")
    assert peer.closed
    await peer.pump()  # sends nothing more, only the close
    assert transport.frames == []
    assert transport.closed is not None and transport.closed[0] == WS_4408_TOO_SLOW


class GatedTransport:
    """Takes frames at once while its gate is open; its awaited send waits for the gate."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.gate = asyncio.Event()
        self.gate.set()

    def send_now(self, frame: bytes) -> bool:
        if self.gate.is_set():
            self.frames.append(frame)
        return self.gate.is_set()

    async def send(self, frame: bytes) -> None:
        await self.gate.wait()
        self.frames.append(frame)

    async def close(self, code: int, reason: str) -> None:
        return None


async def test_frames_written_at_once_never_overtake_queued_ones() -> None:
    transport = GatedTransport()
    peer = Peer(transport, outbox_limit=10)
    pump = asyncio.create_task(peer.pump())
    await asyncio.sleep(0)  # the pump waits for frames
    peer.send(b"1")
    assert transport.frames == [b"1"]  # written at once: no task switch
    transport.gate.clear()
    peer.send(b"2")  # the socket would make it wait: queued for the pump
    await asyncio.sleep(0)  # the pump takes it and waits on the socket
    transport.gate.set()
    peer.send(b"3")  # the socket takes frames again, but "2" is still in the pump's hands
    async with asyncio.timeout(5):
        while len(transport.frames) < 3:
            await asyncio.sleep(0)
    assert transport.frames == [b"1", b"2", b"3"]
    await asyncio.sleep(0)
    peer.send(b"4")
    assert transport.frames[-1] == b"4"
    pump.cancel()


class SharedLogTransport:
    """Takes every frame at once, noting in a list shared by all peers whose frame it was."""

    def __init__(self, name: int, written: list[tuple[int, bytes]]) -> None:
        self.name = name
        self.written = written

    def send_now(self, frame: bytes) -> bool:
        self.written.append((self.name, frame))
        return True

    async def send(self, frame: bytes) -> None:
        self.written.append((self.name, frame))

    async def close(self, code: int, reason: str) -> None:
        return None


async def test_a_broadcast_serves_peers_in_the_order_they_joined(tmp_path: Path) -> None:
    # The first to join (a workshop's facilitator, a benchmark's observer) is not kept waiting behind
    # everyone who came later; a set would serve them in an order of its own.
    log = SqliteLog(tmp_path / "log.sqlite3")
    async with RoomRegistry(log, RoomSettings()) as registry:
        written: list[tuple[int, bytes]] = []
        peers = [Peer(SharedLogTransport(n, written), 100) for n in range(20)]
        pumps = [asyncio.create_task(peer.pump()) for peer in peers]
        await asyncio.sleep(0)  # every pump waits for frames: sends are written at once
        room = None
        for peer in peers:
            room = await registry.join(RoomId("r"), peer)
            room.receive(peer, SyncStep1(b"\x00"))
        assert room is not None
        async with asyncio.timeout(5):
            while not all(peer.state is PeerState.SYNCED for peer in peers):
                await asyncio.sleep(0.01)
        written.clear()
        room.receive(peers[7], SyncUpdate(note_update("a", "1")))
        async with asyncio.timeout(5):
            while len(written) < len(peers):
                await asyncio.sleep(0.01)

        assert [name for name, _ in written] == list(range(20))
        assert {type(decode_message(frame)) for _, frame in written} == {SyncUpdate}

        for pump in pumps:
            pump.cancel()
    await log.close()
