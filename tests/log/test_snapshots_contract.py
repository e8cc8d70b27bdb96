"""The Snapshots contract, over every backend: idempotent writes, the latest at or before a seq, exact history."""

from __future__ import annotations

from log_records import put, rec

from candor.ids import RoomId, Seq
from candor.log.base import LogRecord, SnapshotRecord
from candor.log.snapshots import SnapshottedLog

ROOM = RoomId("room-a")
OTHER = RoomId("room-b")


async def test_a_room_without_snapshots_has_none(snapshots: SnapshottedLog) -> None:
    assert await snapshots.latest_snapshot(ROOM) is None
    assert await snapshots.latest_snapshot(ROOM, at_or_before=Seq(100)) is None


async def test_latest_snapshot_at_or_before_a_seq(snapshots: SnapshottedLog) -> None:
    for seq in (10, 20, 30):
        await snapshots.write_snapshot(SnapshotRecord(ROOM, Seq(seq), seq, b"state%d" % seq))
    latest = await snapshots.latest_snapshot(ROOM)
    assert latest == SnapshotRecord(ROOM, Seq(30), 30, b"state30")
    assert await snapshots.latest_snapshot(ROOM, at_or_before=Seq(25)) == SnapshotRecord(ROOM, Seq(20), 20, b"state20")
    assert await snapshots.latest_snapshot(ROOM, at_or_before=Seq(20)) == SnapshotRecord(ROOM, Seq(20), 20, b"state20")
    assert await snapshots.latest_snapshot(ROOM, at_or_before=Seq(5)) is None
    assert await snapshots.latest_snapshot(OTHER) is None


async def test_writing_a_snapshot_twice_keeps_the_first(snapshots: SnapshottedLog) -> None:
    await snapshots.write_snapshot(SnapshotRecord(ROOM, Seq(20), 20, b"first"))
    await snapshots.write_snapshot(SnapshotRecord(ROOM, Seq(20), 21, b"second"))
    assert await snapshots.latest_snapshot(ROOM) == SnapshotRecord(ROOM, Seq(20), 20, b"first")


async def _history(log: SnapshottedLog, count: int) -> list[LogRecord]:
    """``count`` records appended in uneven batches, with a snapshot every 20."""
    stored: list[LogRecord] = []
    seq = 1
    while seq <= count:
        batch = list(range(seq, min(seq + 1 + seq % 3, count + 1)))
        stored += await put(log, ROOM, *batch)
        seq = batch[-1] + 1
        for done in batch:
            if done % 20 == 0:
                await log.write_snapshot(SnapshotRecord(ROOM, Seq(done), 1000 * done, b"state%d" % done))
    return stored


async def test_history_stays_exact_at_every_seq_after_snapshots(snapshots: SnapshottedLog) -> None:
    """A snapshot may compact the log (Redis moves old records to its archive): every read stays the same."""
    stored = await _history(snapshots, 70)
    assert stored == [rec(s) for s in range(1, 71)]
    assert await snapshots.read(ROOM, after=Seq(0)) == stored
    for seq in range(0, 71):
        assert await snapshots.read(ROOM, after=Seq(0), upto=Seq(seq)) == stored[:seq]
        assert await snapshots.read(ROOM, after=Seq(seq)) == stored[seq:]
        assert await snapshots.read(ROOM, after=Seq(seq), upto=Seq(seq + 3)) == stored[seq : seq + 3]
        assert await snapshots.seq_at_time(ROOM, 1000 * seq) == seq
        assert await snapshots.seq_at_time(ROOM, 1000 * seq + 999) == seq
        snapshot = await snapshots.latest_snapshot(ROOM, at_or_before=Seq(seq))
        assert (snapshot.seq if snapshot else 0) == seq // 20 * 20
    assert await put(snapshots, ROOM, 71) == [rec(71)]
