"""Records the log contract suites append and expect: ``rec(seq)`` is what appending ``entry(seq)`` stores."""

from __future__ import annotations

from collections.abc import Callable

from candor.ids import PeerId, RoomId, Seq
from candor.log.base import Entry, EventLog, LogRecord

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


# Stores bytes that are no record as record 1 of an empty room, behind the backend's back (see conftest.py).
PlantGarbage = Callable[[RoomId], None]
