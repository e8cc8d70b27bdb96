"""Crash consistency: SIGKILL at random points while 50 clients write; a locked database closes with 1013."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from pycrdt import Doc

from candor.board.projection import board_to_json
from candor.errors import WS_1013_TRY_AGAIN_LATER
from candor.ids import RoomId, Seq
from candor.log.sqlite import SqliteLog
from yclient import yclient

ROOM = "crashy"


async def write_until_killed(url: str, writer: int, seen: set[str], rng: random.Random) -> None:
    """Write notes until the connection drops; remember every key the server broadcast back."""
    with contextlib.suppress(Exception):
        async with yclient(url) as client:
            for i in range(10_000):
                await client.edit(**{f"w{writer}-{rng.random():.12f}-{i}": i})
                seen.update(client.confirmed_notes())
                await asyncio.sleep(rng.uniform(0.01, 0.05))


async def test_sigkill_at_random_points_loses_nothing_and_keeps_log_and_snapshots_consistent(
    make_server: Any,
) -> None:
    server = make_server("--snapshot-every", "25")
    rng = random.Random(7)
    seen: set[str] = set()
    for _ in range(3):
        writers = [asyncio.create_task(write_until_killed(server.ws_url(ROOM), n, seen, rng)) for n in range(50)]
        await asyncio.sleep(rng.uniform(0.8, 2.0))
        server.kill()
        await asyncio.gather(*writers)
        server.start()

    board = server.get(f"/api/rooms/{ROOM}/board")
    missing = seen - set(board["board"]["notes"])
    assert len(seen) > 200, "the clients should have written for a while"
    assert not missing, f"{len(missing)} broadcast updates lost"
    server.terminate()
    await check_snapshots_match_the_log(server.data_dir)


async def check_snapshots_match_the_log(data_dir: Path) -> None:
    """Every snapshot equals replaying the log up to its seq; seqs run 1..head without a gap."""
    log = SqliteLog(data_dir / "candor.sqlite3")
    try:
        room = RoomId(ROOM)
        records = await log.read(room, after=Seq(0))
        assert [r.seq for r in records] == list(range(1, len(records) + 1))
        replayed: Doc[Any] = Doc()
        by_seq = {}
        for record in records:
            replayed.apply_update(record.update)
            by_seq[record.seq] = board_to_json(replayed)
        snapshot = await log.latest_snapshot(room)
        checked = 0
        while snapshot is not None:
            from_snapshot: Doc[Any] = Doc()
            from_snapshot.apply_update(snapshot.state)
            assert board_to_json(from_snapshot) == by_seq[snapshot.seq], f"snapshot {snapshot.seq} differs"
            checked += 1
            snapshot = await log.latest_snapshot(room, at_or_before=Seq(snapshot.seq - 1))
        assert checked >= 3
    finally:
        await log.close()


async def test_a_locked_database_closes_writers_with_1013_and_nothing_is_half_written(make_server: Any) -> None:
    server = make_server()
    url = server.ws_url("locked")
    async with yclient(url) as client:
        await client.edit(before="lock")
        await client.wait_for(lambda: "before" in client.confirmed_notes())
        blocker = sqlite3.connect(server.data_dir / "candor.sqlite3", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # another program holds the database
        try:
            await client.edit(during="lock")
            code, reason = await client.closed_by_server(within_s=15)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
    assert code == WS_1013_TRY_AGAIN_LATER
    assert "log" in reason
    async with yclient(url) as again:  # the room reloads from the log once the lock is gone
        assert again.confirmed_notes() == {"before": "lock"}


async def test_a_short_lock_delays_writes_without_stalling_the_server(make_server: Any) -> None:
    """Held for less than the busy timeout, a lock only delays the update: nothing is lost or closed.

    The server waits for the lock without blocking: it answers HTTP and relays
    presence meanwhile, and the update is broadcast once it is logged.
    """
    server = make_server()
    url = server.ws_url("held")
    async with yclient(url) as writer, yclient(url) as watcher:
        await writer.edit(before="lock")
        await watcher.wait_for(lambda: "before" in watcher.confirmed_notes())
        blocker = sqlite3.connect(server.data_dir / "candor.sqlite3", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            await writer.edit(during="lock")
            await asyncio.sleep(0.3)
            started = time.monotonic()
            assert (await asyncio.to_thread(server.get, "/healthz"))["status"] == "ok"
            assert time.monotonic() - started < 0.5, "the server stalled while the database was locked"
            await writer.send_presence({"name": "Writer"})
            await watcher.wait_for(lambda: {"name": "Writer"} in watcher.presence_of_others().values(), 1)
            assert "during" not in watcher.confirmed_notes()  # not logged yet, so not broadcast
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        await watcher.wait_for(lambda: watcher.confirmed_notes().get("during") == "lock")
        assert writer.ws.close_code is None
