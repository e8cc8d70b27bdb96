"""Rebuild a room's document at a seq or a time: nearest snapshot, then the log after it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pycrdt import Doc

from candor.board.safe import EntryIndex, apply_stored
from candor.errors import BadRequest
from candor.ids import RoomId, Seq
from candor.log.base import EventLog
from candor.log.snapshots import SnapshottedLog

_SEQ = re.compile(r"[0-9]+", re.ASCII)
# A point is at most this long (an ISO time with microseconds and an offset is 32 characters).
MAX_POINT_CHARS = 64
MAX_SEQ = 2**62
# Times a point may name: from the epoch to the last day datetime can show in any time zone.
LAST_MOMENT_MS = int(datetime(9999, 12, 30, tzinfo=UTC).timestamp() * 1000)

# How many records a rebuild replays between two progress reports.
PROGRESS_EVERY = 1000

# Called with (records replayed so far, records to replay).
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class PointInTime:
    """Either a log position or a wall-clock time (milliseconds since the epoch)."""

    seq: Seq | None = None
    time_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Rebuilt:
    doc: Doc[Any]
    seq: Seq
    snapshot_seq: Seq
    replayed: int
    time_ms: int | None = None  # when the record at ``seq`` was accepted; None for an empty room


def parse_point(text: str) -> PointInTime:
    """``"42"`` is seq 42; an ISO 8601 time (``2026-11-23T14:32:00Z``) is a moment; BadRequest for anything else.

    A seq is at most 2**62 and a time lies between 1970 and 9999, so whatever
    is built from a point (a file name, a bisection) stays in range.
    """
    text = text.strip()
    if len(text) > MAX_POINT_CHARS:
        raise BadRequest(f"'at' must be a seq number or an ISO 8601 time, not {len(text)} characters")
    if _SEQ.fullmatch(text):
        if len(text) > 19 or int(text) > MAX_SEQ:
            raise BadRequest(f"'at' as a seq number is at most {MAX_SEQ}")
        return PointInTime(seq=Seq(int(text)))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        time_ms = int(moment.timestamp() * 1000)
    except (ValueError, OverflowError, OSError) as exc:
        raise BadRequest(f"'at' must be a seq number or an ISO 8601 time, not {text!r}") from exc
    if not 0 <= time_ms <= LAST_MOMENT_MS:
        raise BadRequest("'at' as a time must lie between 1970 and the year 9999")
    return PointInTime(time_ms=time_ms)


def format_moment(time_ms: int) -> str:
    """The ISO 8601 UTC time (``2026-11-23T14:32:00.000Z``) that :func:`parse_point` reads back."""
    moment = datetime.fromtimestamp(time_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def resolve_seq(log: EventLog, room: RoomId, point: PointInTime | None) -> Seq:
    """The log position a point refers to, capped at the room's head."""
    head = await log.head(room)
    if point is None:
        return head
    if point.seq is not None:
        return Seq(min(point.seq, head))
    assert point.time_ms is not None
    return await log.seq_at_time(room, point.time_ms)


async def rebuild(
    log: SnapshottedLog, room: RoomId, seq: Seq, progress: Progress | None = None, *, board: bool = True
) -> Rebuilt:
    """The document after records ``1..seq``, starting from the nearest snapshot.

    ``progress``, when given, hears how far the replay has got every
    :data:`PROGRESS_EVERY` records and once at the end. A ``board`` keeps its
    shape: a stored update outside it is left out (see :func:`apply_stored`),
    as is one outside any Yjs document's bounds in a free-form room.
    """
    doc: Doc[Any] = Doc()
    index = EntryIndex() if board else None
    snapshot = await log.latest_snapshot(room, at_or_before=seq)
    start = Seq(0)
    if snapshot is not None:
        apply_stored(doc, snapshot.state, index, where=f"(room {room} snapshot {snapshot.seq})")
        start = snapshot.seq
    records = await log.read(room, after=start, upto=seq)
    for done, record in enumerate(records, 1):
        apply_stored(doc, record.update, index, where=f"(room {room}, seq {record.seq})")
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, len(records))
    if progress is not None:
        progress(len(records), len(records))
    time_ms = records[-1].time_ms if records else None
    if time_ms is None and seq > 0:
        last = await log.read(room, after=Seq(seq - 1), upto=seq)
        time_ms = last[0].time_ms if last else None
    return Rebuilt(doc=doc, seq=seq, snapshot_seq=start, replayed=len(records), time_ms=time_ms)
