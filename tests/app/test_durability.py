"""Nothing accepted is lost: SIGKILL mid-write, SIGTERM shutdown, idle eviction."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from yclient import yclient


def snapshots(data_dir: Path, room: str) -> list[int]:
    with contextlib.closing(sqlite3.connect(data_dir / "candor.sqlite3")) as db:
        return [row[0] for row in db.execute("SELECT seq FROM snapshots WHERE room = ? ORDER BY seq", (room,))]


async def test_sigkill_while_clients_write_loses_nothing_that_was_broadcast(server: Any) -> None:
    url = server.ws_url("crash")
    seen: set[str] = set()

    async def writer(n: int) -> None:
        async with yclient(url) as c:
            for i in range(1000):
                await c.edit(**{f"w{n}-{i}": i})
                seen.update(c.confirmed_notes())  # keys the server broadcast
                await asyncio.sleep(0.002)

    tasks = [asyncio.create_task(writer(n)) for n in range(4)]
    await asyncio.sleep(1.0)
    server.kill()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert len(seen) > 50, "the clients should have written for a while"

    server.start()
    notes = server.get("/api/rooms/crash/board")["board"]["notes"]
    missing = seen - set(notes)
    assert not missing, f"{len(missing)} broadcast updates lost, e.g. {sorted(missing)[:5]}"


async def test_sigterm_shuts_down_cleanly_and_snapshots_open_rooms(server: Any) -> None:
    url = server.ws_url("graceful")
    async with yclient(url) as c:
        await c.edit(a=1, b=2)
        await c.edit(c=3)
        await c.wait_for(lambda: len(c.received_updates) == 2)
        assert server.terminate() in (0, -15)  # uvicorn re-raises SIGTERM after its clean shutdown
    assert snapshots(server.data_dir, "graceful") == [2]
    server.start()
    async with yclient(url) as c:
        assert c.notes_json() == {"a": 1, "b": 2, "c": 3}


async def test_snapshot_every_n_updates(make_server: Any) -> None:
    server = make_server("--snapshot-every", "10")
    async with yclient(server.ws_url("periodic")) as c:
        for i in range(1, 26):
            await c.edit(**{f"n{i}": i})
            # One update per group commit, so the snapshot points are exact.
            await c.wait_for(lambda i=i: len(c.received_updates) == i)
    assert snapshots(server.data_dir, "periodic") == [10, 20]


async def test_idle_room_is_evicted_with_a_snapshot_and_reloads(make_server: Any) -> None:
    server = make_server("--idle-timeout", "0.3")
    url = server.ws_url("idle")
    async with yclient(url) as c:
        await c.edit(k="v")
        await c.wait_for(lambda: len(c.received_updates) == 1)
    async with asyncio.timeout(5):
        while server.get("/healthz")["rooms_loaded"]:
            await asyncio.sleep(0.05)
    assert snapshots(server.data_dir, "idle") == [1]
    loads = server.get("/healthz")["room_loads"]
    async with yclient(url) as c:
        assert c.notes_json() == {"k": "v"}
    assert server.get("/healthz")["room_loads"] == loads + 1
