"""Every log backend erases whole rooms so that no byte of them is left in its files."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from candor.ids import PeerId, RoomId, Seq
from candor.log.base import Entry, EventLog, SnapshotRecord
from candor.log.redis import RedisLog
from candor.log.sqlite import SqliteLog

# The seed's sentences as the rooms' updates: a room's own words mark each of its records.
SENTENCES = [
    "Need institutional incentives, modelled by leaders, to share failures openly",
    "Mainly positive examples of impact are shared.",
    "We don't talk about failure and learn from it.",
    "Not understanding needs beyond ourselves.",
    "Felt safe, but there are not very many safe spaces to do this.",
    "Nice to not feel like you had to be positive.",
    "A good experience, comfortable in a supportive group.",
    "The ground rules up front set the tone for a safe space.",
    "Virtual world can create technological exclusion",
    "Reminder that it needs to be revisited, not brushed under the carpet.",
    "Allowing something good to come from it.",
    "Listened to and a sense of solidarity.",
]
ROOMS = [RoomId(f"ev{n:08x}-r1") for n in range(len(SENTENCES))]


def stored_bytes(log: EventLog, request: pytest.FixtureRequest) -> bytes:
    if isinstance(log, SqliteLog):
        files = [p for p in log.path.parent.iterdir() if p.name.startswith(log.path.name)]
    else:
        assert isinstance(log, RedisLog)
        backend = "flushed_redis" if request.node.callspec.params["event_log"] == "redis" else "flushed_cluster"
        files = request.getfixturevalue(backend).files()
    return b"".join(Path(p).read_bytes() for p in sorted(files))


async def fill(log: EventLog) -> None:
    """Thousands of records of varied sizes, rooms interleaved, so the storage's structures span many pages."""
    shuffle = random.Random(7)
    for batch in range(120):
        for room, sentence in zip(ROOMS, SENTENCES, strict=True):
            words = f"{sentence} ({room}) ".encode() * shuffle.choice([1, 2, 6, 40])
            await log.append(room, [Entry(batch, PeerId("p-1"), words)])
    for room, sentence in zip(ROOMS, SENTENCES, strict=True):
        state = f"snapshot of {sentence} ({room})".encode()
        await log.write_snapshot(SnapshotRecord(room, Seq(60), 60, state))
        await log.mark_purged(room, [f"note-of-{room}"], 61)


async def test_erased_rooms_leave_no_byte_in_the_backends_files(event_log: Any, request: pytest.FixtureRequest) -> None:
    log: Any = event_log
    await fill(log)
    before = stored_bytes(log, request)
    assert all(s.encode() in before for s in SENTENCES)
    # One room after another: each deletion leaves the b-trees shaped differently.
    for gone in range(len(ROOMS) - 1):
        assert await log.erase_rooms([ROOMS[gone]]) == 1
        stored = stored_bytes(log, request)
        for erased in range(gone + 1):
            assert SENTENCES[erased].encode() not in stored, (gone, erased)
            assert ROOMS[erased].encode() not in stored, (gone, erased)
        assert SENTENCES[-1].encode() in stored
    assert await log.rooms() == [ROOMS[-1]]
    assert len(await log.read(ROOMS[-1], Seq(0))) == 120
    assert await log.head(ROOMS[0]) == 0 and await log.latest_snapshot(ROOMS[0]) is None
    assert await log.purged_notes(ROOMS[0]) == {}


async def test_erasing_is_idempotent_and_a_room_starts_over_afterwards(event_log: Any) -> None:
    log: Any = event_log
    room = ROOMS[0]
    await log.append(room, [Entry(1, PeerId("p-1"), b"first")])
    assert await log.erase_rooms([room]) == 1
    assert await log.erase_rooms([room]) == 0
    assert await log.erase_rooms([]) == 0
    records = await log.append(room, [Entry(2, PeerId("p-1"), b"again")], expect_head=Seq(0))
    assert [r.seq for r in records] == [1]
