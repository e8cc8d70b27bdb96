"""Memory freed by evicted rooms goes back to the system: measured on this process's real heap."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map
from test_room import RecordingTransport, note_update

from candor.http.app import create_app
from candor.http.direct import ws_protocol
from candor.ids import RoomId
from candor.log.sqlite import SqliteLog
from candor.protocol import SyncStep1, SyncUpdate
from candor.rooms.heap import HeapTrimmer, _malloc_trim, heap_usage, resident_mb
from candor.rooms.peer import Peer, PeerState
from candor.rooms.registry import RoomRegistry
from candor.rooms.room import RoomSettings
from candor.settings import Settings
from inprocess import uvicorn_serving
from scrape import metrics_of
from yclient import yclient


def metrics_text(registry: RoomRegistry) -> str:
    return registry.metrics.render().decode()


def boards(count: int, notes: int) -> list[Doc[Any]]:
    """Documents made of many small native allocations, like a busy board's history."""
    docs: list[Doc[Any]] = []
    for _ in range(count):
        doc: Doc[Any] = Doc()
        doc["notes"] = notes_map = Map()
        with doc.transaction():
            for i in range(notes):
                notes_map[str(i)] = i
        docs.append(doc)
    return docs


async def test_a_trim_after_rooms_are_freed_gives_their_memory_back() -> None:
    trims: list[None] = []
    trimmer = HeapTrimmer(lambda: trims.append(None), delay_s=0.01)
    # Start from a trimmed heap: pages earlier tests freed would otherwise take the boards unseen.
    trim = _malloc_trim()
    assert trim is not None
    trim(0)
    before = resident_mb()
    docs = boards(20, 10_000)
    grown = resident_mb() - before
    assert grown > 30, f"the boards took only {grown:.0f} MB"
    del docs
    gc.collect()
    retained = resident_mb() - before  # glibc keeps most of it for later
    async with asyncio.TaskGroup() as tasks:
        trimming = tasks.create_task(trimmer.run())
        trimmer.room_freed()
        trimmer.room_freed()  # a burst of evictions: one trim
        async with asyncio.timeout(10):
            while not trims:
                await asyncio.sleep(0.01)
        after = resident_mb() - before
        assert after < grown / 4, (grown, retained, after)
        await asyncio.sleep(0.1)
        assert len(trims) == 1
        trimming.cancel()


def test_the_native_heap_in_use_counts_yjs_documents() -> None:
    """The native heap in use (what loadtests/board_memory.py reports) sees documents Python's accounting does not."""
    assert heap_usage is not None, "glibc has mallinfo2 (2.33 and later)"
    before = heap_usage().in_use_bytes
    docs = boards(10, 10_000)
    grown = heap_usage().in_use_bytes - before
    assert grown > 10 * 2**20, f"ten boards of 10,000 entries counted {grown} bytes"
    del docs
    gc.collect()
    assert heap_usage().in_use_bytes - before < grown / 10  # freed: no longer in use, whether trimmed or not


async def assert_freed_once_evicted(registry: RoomRegistry, freed: list[weakref.ref[Any]]) -> None:
    """Wait for the registry to evict its rooms; then nothing in ``freed`` may be alive (the collector is off)."""
    async with asyncio.timeout(10):
        while registry.rooms:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    assert [ref() for ref in freed] == [None] * len(freed)


@pytest.mark.parametrize("gated", [False, True])
async def test_an_evicted_room_is_freed_at_once(tmp_path: Path, gated: bool) -> None:
    # Freed by reference counting alone: the gate's observers (held natively, out of the
    # collector's sight) and the presence observer no longer point back at a closed room.
    log = SqliteLog(tmp_path / "log.sqlite3")
    gc.disable()
    try:
        async with RoomRegistry(log, RoomSettings(idle_timeout_s=0.05)) as registry:
            peer = Peer(RecordingTransport(), 100)
            # An event's room is a board, with a gate; any other name is a free-form room.
            room = await registry.join(RoomId("ev0123abcd-r1" if gated else "freed"), peer)
            room.receive(peer, SyncStep1(b"\x00"))
            if not gated:  # (a gated board refuses this bare note; its gate is what matters here)
                room.receive(peer, SyncUpdate(note_update("a", "1")))
            async with asyncio.timeout(5):
                while peer.state is not PeerState.SYNCED or room.head < (0 if gated else 1):
                    await asyncio.sleep(0.01)
            freed = [weakref.ref(room), await room.read(weakref.ref)]
            registry.leave(room, peer)
            del room, peer
            await assert_freed_once_evicted(registry, freed)
    finally:
        gc.enable()
        await log.close()


async def test_the_server_trims_once_after_idle_rooms_are_evicted(make_server: Any) -> None:
    server = make_server("--idle-timeout", "0.5")
    for n in range(3):
        async with yclient(server.ws_url(f"heap-{n}")) as client:
            await client.edit(note=f"room {n}")
            await client.wait_for(lambda client=client: len(client.received_updates) == 1)

    def trims() -> float:
        return metrics_of(server)["candor_heap_trims_total"]

    assert trims() == 0
    async with asyncio.timeout(20):  # evicted after 0.5 s idle, trimmed 5 s after the burst
        while trims() < 1:
            await asyncio.sleep(0.2)
    await asyncio.sleep(1)
    assert trims() == 1  # the three evictions made one trim


async def test_a_room_served_over_websockets_is_freed_once_evicted(tmp_path: Path, io_mode: str) -> None:
    # The real server (uvicorn, the websocket protocol `candor serve` picks, the app) in this process, so the
    # room can be watched: nothing a connection leaves behind (its direct consumer, its timers) keeps
    # the room and its document alive once everyone has left and it is evicted.
    settings = Settings(data_dir=tmp_path / "data", open_rooms=True, rooms=RoomSettings(idle_timeout_s=0.1))
    app = create_app(settings)
    async with uvicorn_serving(app, ws=ws_protocol(direct_io=io_mode == "on")) as (base, _):
        registry: RoomRegistry = app.state.candor.registry
        url = f"{base}/ws/freed"
        gc.disable()
        try:
            async with yclient(url) as writer, yclient(url) as reader:
                await writer.edit(note="x" * 1000)
                await reader.wait_for(lambda: len(reader.received_updates) == 1)
                served_directly = 2 if io_mode == "on" else 0  # both connections, or neither
                assert f"candor_direct_connections_total {served_directly:.1f}" in metrics_text(registry)
                room = registry.rooms[RoomId("freed")]
                freed = [weakref.ref(room), await room.read(weakref.ref)]
                del room
            await assert_freed_once_evicted(registry, freed)
        finally:
            gc.enable()
