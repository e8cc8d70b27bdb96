"""The EventLog contract, over every backend: numbering, atomicity, conflicts, reads, time lookups, rooms, close."""

from __future__ import annotations

import asyncio

import pytest
from log_records import PlantGarbage, entry, put, rec

from candor.errors import CorruptRecord, LogConflict, LogUnavailable, ProtocolError, StorageError
from candor.ids import RoomId, Seq
from candor.log.base import EventLog

ROOM = RoomId("room-a")
OTHER = RoomId("room-b")


async def test_empty_room_has_head_zero_and_no_records(event_log: EventLog) -> None:
    assert await event_log.head(ROOM) == 0
    assert await event_log.read(ROOM, after=Seq(0)) == []
    assert await event_log.seq_at_time(ROOM, 10_000) == 0
    assert await event_log.rooms() == []


async def test_the_log_numbers_records_in_order_per_room(event_log: EventLog) -> None:
    assert await put(event_log, ROOM, 1, 2) == [rec(1), rec(2)]
    assert await put(event_log, OTHER, 1) == [rec(1, OTHER)]
    assert await put(event_log, ROOM, 3) == [rec(3)]
    assert await event_log.read(ROOM, after=Seq(0)) == [rec(1), rec(2), rec(3)]
    assert await event_log.read(ROOM, after=Seq(1), upto=Seq(2)) == [rec(2)]
    assert await event_log.head(ROOM) == 3
    assert await event_log.head(OTHER) == 1


async def test_an_empty_append_stores_nothing(event_log: EventLog) -> None:
    assert await event_log.append(ROOM, []) == []
    assert await event_log.head(ROOM) == 0
    assert await event_log.rooms() == []


async def test_an_append_expecting_another_head_conflicts_and_stores_nothing(event_log: EventLog) -> None:
    await put(event_log, ROOM, 1)
    with pytest.raises(LogConflict):
        await event_log.append(ROOM, [entry(2), entry(3)], expect_head=Seq(0))
    assert await event_log.read(ROOM, after=Seq(0)) == [rec(1)]
    assert await event_log.append(ROOM, [entry(2)], expect_head=Seq(1)) == [rec(2)]


async def test_an_append_expecting_the_head_of_an_empty_room_happens_once(event_log: EventLog) -> None:
    """How a room is initialised exactly once, however many try at the same moment."""
    results = await asyncio.gather(
        *(event_log.append(ROOM, [entry(1)], expect_head=Seq(0)) for _ in range(5)), return_exceptions=True
    )
    assert sum(isinstance(r, list) for r in results) == 1
    assert all(isinstance(r, LogConflict) for r in results if not isinstance(r, list))
    assert await event_log.read(ROOM, after=Seq(0)) == [rec(1)]


async def test_concurrent_appends_from_many_rooms_all_land(event_log: EventLog) -> None:
    rooms = [RoomId(f"r{i}") for i in range(20)]

    async def writer(room: RoomId) -> None:
        for seq in range(1, 26):
            await put(event_log, room, seq)

    # Two writers per room: the log hands out seqs, so none is lost or reused.
    await asyncio.gather(*(writer(room) for room in rooms), *(writer(room) for room in rooms))
    for room in rooms:
        assert [r.seq for r in await event_log.read(room, after=Seq(0))] == list(range(1, 51))


@pytest.mark.parametrize(
    ("after", "upto", "seqs"),
    [(0, None, [1, 2, 3, 4, 5]), (2, None, [3, 4, 5]), (0, 3, [1, 2, 3]), (1, 4, [2, 3, 4]), (5, None, []),
     (3, 3, []), (4, 99, [5]), (9, None, [])],
    ids=["all", "after", "upto", "between", "after-head", "empty-range", "upto-past-head", "past-head"],
)  # fmt: skip
async def test_a_read_returns_exactly_the_range_asked_for(
    event_log: EventLog, after: int, upto: int | None, seqs: list[int]
) -> None:
    await put(event_log, ROOM, 1, 2, 3, 4, 5)
    got = await event_log.read(ROOM, after=Seq(after), upto=None if upto is None else Seq(upto))
    assert got == [rec(s) for s in seqs]


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


async def test_rooms_lists_every_room_with_a_record_sorted_by_name(event_log: EventLog) -> None:
    for room in ("zeta", "alpha", "mid"):
        await put(event_log, RoomId(room), 1)
    await event_log.append(RoomId("empty"), [])
    assert await event_log.rooms() == [RoomId("alpha"), RoomId("mid"), RoomId("zeta")]


async def test_a_closed_log_refuses_work_with_log_unavailable(event_log: EventLog) -> None:
    await put(event_log, ROOM, 1)
    await event_log.close()
    await event_log.close()  # idempotent
    with pytest.raises(LogUnavailable):
        await put(event_log, ROOM, 2)
    with pytest.raises(LogUnavailable):
        await event_log.head(ROOM)
    with pytest.raises(LogUnavailable):
        await event_log.read(ROOM, after=Seq(0))
    with pytest.raises(LogUnavailable):
        await event_log.rooms()


async def test_a_corrupt_stored_record_is_a_storage_error_not_a_protocol_error(
    event_log: EventLog, plant_garbage: PlantGarbage
) -> None:
    broken = RoomId("broken")
    plant_garbage(broken)
    with pytest.raises(CorruptRecord) as raised:
        await event_log.read(broken, after=Seq(0))
    assert isinstance(raised.value, StorageError) and not isinstance(raised.value, ProtocolError)
    # Only that room: the others read and write as before.
    assert await put(event_log, ROOM, 1) == [rec(1)]
    assert await event_log.read(ROOM, after=Seq(0)) == [rec(1)]
