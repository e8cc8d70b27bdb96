"""What every EventLog backend must do: order, atomicity, conflicts, snapshots, time lookups."""

from __future__ import annotations

import asyncio

import pytest

from candor.errors import LogConflict, LogUnavailable
from candor.ids import PeerId, RoomId, Seq
from candor.log.base import Entry, EventLog, LogRecord, SnapshotRecord
from candor.log.redaction import PurgeableLog

ROOM = RoomId("room-a")
OTHER = RoomId("room-b")


def rec(seq: int, room: RoomId = ROOM, time_ms: int | None = None) -> LogRecord:
    when = time_ms if time_ms is not None else 1000 * seq
    return LogRecord(room, Seq(seq), when, PeerId("p-x"), bytes([seq % 256]) * 3)


def entry(seq: int, time_ms: int | None = None) -> Entry:
    """The entry that becomes ``rec(seq)`` when appended as the room's ``seq``-th record."""
    record = rec(seq, time_ms=time_ms)
    return Entry(record.time_ms, record.origin, record.update)


async def put(log: EventLog, room: RoomId, *seqs: int, times: list[int] | None = None) -> list[LogRecord]:
    entries = [entry(s, times[i] if times else None) for i, s in enumerate(seqs)]
    return await log.append(room, entries)


async def test_empty_room_has_head_zero_and_no_records(event_log: EventLog) -> None:
    assert await event_log.head(ROOM) == 0
    assert await event_log.read(ROOM, after=Seq(0)) == []
    assert await event_log.latest_snapshot(ROOM) is None


async def test_the_log_numbers_records_in_order_per_room(event_log: EventLog) -> None:
    assert await put(event_log, ROOM, 1, 2) == [rec(1), rec(2)]
    assert await put(event_log, OTHER, 1) == [rec(1, OTHER)]
    assert await put(event_log, ROOM, 3) == [rec(3)]
    assert await event_log.read(ROOM, after=Seq(0)) == [rec(1), rec(2), rec(3)]
    assert await event_log.read(ROOM, after=Seq(1), upto=Seq(2)) == [rec(2)]
    assert await event_log.head(ROOM) == 3
    assert await event_log.head(OTHER) == 1
    assert await event_log.rooms() == [ROOM, OTHER]


async def test_an_append_expecting_another_head_conflicts_and_stores_nothing(event_log: EventLog) -> None:
    await put(event_log, ROOM, 1)
    with pytest.raises(LogConflict):
        await event_log.append(ROOM, [entry(2), entry(3)], expect_head=Seq(0))
    assert await event_log.read(ROOM, after=Seq(0)) == [rec(1)]
    assert await event_log.append(ROOM, [entry(2)], expect_head=Seq(1)) == [rec(2)]


async def test_concurrent_appends_from_many_rooms_all_land(event_log: EventLog) -> None:
    rooms = [RoomId(f"r{i}") for i in range(20)]

    async def writer(room: RoomId) -> None:
        for seq in range(1, 26):
            await put(event_log, room, seq)

    async def second_writer(room: RoomId) -> None:
        for seq in range(1, 26):
            await put(event_log, room, seq)

    # Two writers per room: the log hands out seqs, so none is lost or reused.
    await asyncio.gather(*(writer(room) for room in rooms), *(second_writer(room) for room in rooms))
    for room in rooms:
        assert [r.seq for r in await event_log.read(room, after=Seq(0))] == list(range(1, 51))


async def test_seq_at_time_is_the_last_record_not_after_it(event_log: EventLog) -> None:
    await put(event_log, ROOM, 1, 2, 3, times=[100, 200, 300])
    assert await event_log.seq_at_time(ROOM, 50) == 0
    assert await event_log.seq_at_time(ROOM, 200) == 2
    assert await event_log.seq_at_time(ROOM, 250) == 2
    assert await event_log.seq_at_time(ROOM, 10_000) == 3


async def test_a_record_is_never_earlier_than_the_one_before_it(event_log: EventLog) -> None:
    """The clock was set back between two appends: the later record keeps the earlier one's time."""
    await put(event_log, ROOM, 1, times=[5000])
    assert await put(event_log, ROOM, 2, 3, times=[4000, 6000]) == [rec(2, time_ms=5000), rec(3, time_ms=6000)]
    assert await event_log.seq_at_time(ROOM, 4999) == 0
    assert await event_log.seq_at_time(ROOM, 5000) == 2
    assert await event_log.seq_at_time(ROOM, 5999) == 2
    assert await event_log.seq_at_time(ROOM, 6000) == 3


async def test_latest_snapshot_at_or_before_a_seq(event_log: EventLog) -> None:
    for seq in (10, 20, 30):
        await event_log.write_snapshot(SnapshotRecord(ROOM, Seq(seq), seq, b"state%d" % seq))
    await event_log.write_snapshot(SnapshotRecord(ROOM, Seq(20), 20, b"state20"))  # idempotent
    latest = await event_log.latest_snapshot(ROOM)
    assert latest is not None and latest.seq == 30
    at_25 = await event_log.latest_snapshot(ROOM, at_or_before=Seq(25))
    assert at_25 == SnapshotRecord(ROOM, Seq(20), 20, b"state20")
    assert await event_log.latest_snapshot(ROOM, at_or_before=Seq(5)) is None


async def test_a_closed_log_refuses_work_with_log_unavailable(event_log: EventLog) -> None:
    await event_log.close()
    with pytest.raises(LogUnavailable):
        await put(event_log, ROOM, 1)
    with pytest.raises(LogUnavailable):
        await event_log.head(ROOM)


async def _history(log: EventLog, count: int) -> list[LogRecord]:
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


async def test_history_stays_exact_at_every_seq_after_snapshots(event_log: EventLog) -> None:
    stored = await _history(event_log, 70)
    assert stored == [rec(s) for s in range(1, 71)]
    assert await event_log.read(ROOM, after=Seq(0)) == stored
    for seq in range(0, 71):
        assert await event_log.read(ROOM, after=Seq(0), upto=Seq(seq)) == stored[:seq]
        assert await event_log.read(ROOM, after=Seq(seq)) == stored[seq:]
        assert await event_log.read(ROOM, after=Seq(seq), upto=Seq(seq + 3)) == stored[seq : seq + 3]
        assert await event_log.seq_at_time(ROOM, 1000 * seq) == seq
        assert await event_log.seq_at_time(ROOM, 1000 * seq + 999) == seq
        snapshot = await event_log.latest_snapshot(ROOM, at_or_before=Seq(seq))
        assert (snapshot.seq if snapshot else 0) == seq // 20 * 20
    assert await put(event_log, ROOM, 71) == [rec(71)]


SECRET = b"\x77\x0bsecret text"


def scrub(update: bytes) -> bytes:
    """A rewrite that removes the secret (and changes the length, as blanking a note's text does)."""
    return update.replace(SECRET, b"-")


async def test_redact_rewrites_every_record_and_snapshot_its_rewrite_changes(event_log: PurgeableLog) -> None:
    updates = [b"a" + SECRET + b"z" if seq % 4 == 0 else b"plain %d" % seq for seq in range(1, 31)]
    await event_log.append(ROOM, [Entry(1000 * seq, PeerId("p-x"), u) for seq, u in enumerate(updates, 1)])
    await event_log.write_snapshot(SnapshotRecord(ROOM, Seq(20), 20_000, b"state" + SECRET))
    await event_log.write_snapshot(SnapshotRecord(ROOM, Seq(28), 28_000, b"state without it"))
    await put(event_log, OTHER, 1)
    await event_log.append(OTHER, [Entry(2000, PeerId("p-x"), SECRET)])

    rewritten = await event_log.redact([ROOM], scrub)

    assert rewritten == 7 + 1  # seqs 4, 8, ... 28 and one snapshot
    records = await event_log.read(ROOM, after=Seq(0))
    assert [r.update for r in records] == [scrub(u) for u in updates]
    assert [r.seq for r in records] == list(range(1, 31))
    assert [r.time_ms for r in records] == [1000 * seq for seq in range(1, 31)]
    snapshot = await event_log.latest_snapshot(ROOM, at_or_before=Seq(25))
    assert snapshot == SnapshotRecord(ROOM, Seq(20), 20_000, b"state-")
    # Another room is not touched, whatever it holds.
    assert (await event_log.read(OTHER, after=Seq(1)))[0].update == SECRET
    # The room goes on: the next record follows the last one.
    assert [r.seq for r in await put(event_log, ROOM, 31)] == [31]
    assert await event_log.read(ROOM, after=Seq(0)) == [*records, rec(31)]
    assert await event_log.redact([ROOM], scrub) == 0


async def test_purged_notes_are_remembered_with_their_first_time(event_log: PurgeableLog) -> None:
    assert await event_log.purged_notes(ROOM) == {}
    await event_log.mark_purged(ROOM, ["n1", "n2"], 100)
    await event_log.mark_purged(ROOM, ["n2", "n3"], 200)
    assert await event_log.purged_notes(ROOM) == {"n1": 100, "n2": 100, "n3": 200}
    assert await event_log.purged_notes(OTHER) == {}
