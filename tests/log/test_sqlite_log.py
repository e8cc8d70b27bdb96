"""What the SQLite log keeps in memory (each room's head) stays true to the file."""

from __future__ import annotations

import asyncio
import math
import sqlite3
from pathlib import Path

import pytest

from candor.errors import LogUnavailable
from candor.ids import PeerId, RoomId, Seq
from candor.log import sqlite_db
from candor.log.base import Entry
from candor.log.sqlite import SqliteLog

ROOM = RoomId("room-a")
OTHER = RoomId("room-b")


def entry(time_ms: int, update: bytes = b"\x00\x00") -> Entry:
    return Entry(time_ms, PeerId("p-1"), update)


async def test_a_batch_that_fails_forgets_the_heads_it_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two appends committed together; one breaks the batch: neither is stored, and no seq is skipped."""
    monkeypatch.setattr(sqlite_db, "GROUP_WINDOW_S", math.inf)  # appends of one loop turn always share a commit
    log = SqliteLog(tmp_path / "log.sqlite3")
    try:
        await log.append(ROOM, [entry(1)])
        unencodable = Entry(2, PeerId("p-1"), object())  # type: ignore[arg-type]
        results = await asyncio.gather(
            log.append(ROOM, [entry(2)]), log.append(OTHER, [unencodable]), return_exceptions=True
        )
        assert all(isinstance(result, LogUnavailable) for result in results), results
        assert [r.seq for r in await log.append(ROOM, [entry(3)])] == [2]
        assert [r.seq for r in await log.read(ROOM, after=Seq(0))] == [1, 2]
    finally:
        await log.close()


async def test_another_process_appending_to_a_room_is_numbered_after(tmp_path: Path) -> None:
    """A second writer on the same file: this log's next append follows the file's head, not its own."""
    path = tmp_path / "log.sqlite3"
    log, other = SqliteLog(path), SqliteLog(path)
    try:
        await log.append(ROOM, [entry(5000), entry(5001)])
        await other.append(ROOM, [entry(4000, b"\x01")])  # a process whose clock is behind
        [record] = await log.append(ROOM, [entry(5002, b"\x02")])
        assert (record.seq, record.time_ms) == (4, 5002)
        stored = await other.read(ROOM, after=Seq(0))
        assert [(r.seq, r.time_ms) for r in stored] == [(1, 5000), (2, 5001), (3, 5001), (4, 5002)]
    finally:
        await log.close()
        await other.close()


@pytest.mark.parametrize("records", [0, 1, 2, 37])
async def test_a_log_file_with_the_old_time_index_loses_it_and_still_finds_times(tmp_path: Path, records: int) -> None:
    """Files written before the index was dropped: opening one drops it; searching by time bisects the seqs."""
    path = tmp_path / "log.sqlite3"
    await SqliteLog(path).close()  # the tables
    conn = sqlite3.connect(path)
    conn.execute("CREATE INDEX log_time ON log (room, time_ms)")
    conn.close()
    log = SqliteLog(path)
    try:
        indexes = sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        assert ("log_time",) not in indexes
        for i in range(records):
            await log.append(ROOM, [entry(1000 * (i + 1))])
        for seq in range(records + 1):
            assert await log.seq_at_time(ROOM, 1000 * seq + 500) == seq
            assert await log.seq_at_time(ROOM, 1000 * seq) == seq
    finally:
        await log.close()


async def test_a_redaction_leaves_no_copy_in_the_btrees_interior_pages(tmp_path: Path) -> None:
    """Rows rewritten in place can leave a copy where the b-tree keeps a divider: the file is then rebuilt."""
    secrets = [b"Not being judged or blamed, said in room %d. " % room for room in range(4)]
    log = SqliteLog(tmp_path / "log.sqlite3")
    try:
        for n in range(300):  # four rooms writing at once, records of ~550 bytes
            for room, secret in enumerate(secrets):
                await log.append(RoomId(f"room-{room:02d}"), [Entry(0, PeerId("p"), secret + b"x" * 500 + b"%d" % n)])
        for room, secret in enumerate(secrets):
            rewrite = lambda update, secret=secret: update.replace(secret, b"-")  # noqa: E731
            assert await log.redact([RoomId(f"room-{room:02d}")], rewrite, [secret]) == 300
    finally:
        await log.close()
    stored = await asyncio.to_thread(lambda: b"".join(path.read_bytes() for path in tmp_path.iterdir()))
    assert [secret for secret in secrets if secret in stored] == []
