"""Which moment an export is of: now, a seq (one room), a time, or the end of a phase; and that moment in words.

``end-of-PHASE`` is, in each room, the board just before it first moved to a
phase after PHASE (collect → reveal → cluster → vote → done), or the board
now if it never did: "the end of the vote" is the board as the vote closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from pycrdt import Doc, Map

from candor.board import model
from candor.board.safe import EntryIndex, apply_stored
from candor.errors import BadRequest
from candor.history.rebuild import PointInTime, parse_point, resolve_seq
from candor.ids import RoomId, Seq
from candor.log.base import EventLog

PHASE_END_PREFIX: Final = "end-of-"
PHASE_END_WORDS: Final = {
    "collect": "the end of collecting notes",
    "reveal": "the end of the reveal",
    "cluster": "the end of clustering",
    "vote": "the end of the vote",
    "done": "the end of the session",
}
MONTHS: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# Records replayed at a time while looking for a phase's end.
SCAN_BATCH: Final = 500
_PHASE_END = re.compile(r"end-of-([a-z]+)")


@dataclass(frozen=True, slots=True)
class Moment:
    """A point of the log (seq or time), or the end of a phase."""

    point: PointInTime | None = None
    phase_end: str | None = None


def parse_moment(text: str | None) -> Moment | None:
    """``None``/empty: now; ``"42"``: seq 42; an ISO 8601 time; ``"end-of-vote"``. BadRequest otherwise."""
    if text is None or not text.strip():
        return None
    found = _PHASE_END.fullmatch(text.strip())
    if found:
        phase = found.group(1)
        if phase not in model.PHASES:
            raise BadRequest(f"'at' names no phase: use end-of- with one of {', '.join(model.PHASES)}")
        return Moment(phase_end=phase)
    try:
        return Moment(point=parse_point(text))
    except BadRequest as exc:
        raise BadRequest(f"{exc.message}, or end-of-PHASE (e.g. end-of-vote)") from exc


def _phase(doc: Doc[Any]) -> object:
    try:
        return doc.get(model.META, type=Map).get("phase")
    except (TypeError, ValueError):
        return None  # a free-form room: no phases


async def phase_end(log: EventLog, room: RoomId, phase: str) -> Seq:
    """The last seq before the board first moved to a phase after ``phase``; the head if it never did."""
    later = set(model.PHASES[model.PHASES.index(phase) + 1 :])
    head = await log.head(room)
    doc: Doc[Any] = Doc()
    index = EntryIndex()
    cursor = Seq(0)
    while cursor < head:
        batch = await log.read(room, after=cursor, upto=Seq(min(head, cursor + SCAN_BATCH)))
        if not batch:
            break
        for record in batch:
            apply_stored(doc, record.update, index, where=f"(room {room}, seq {record.seq})")
            if _phase(doc) in later:
                return Seq(record.seq - 1)
            cursor = record.seq
    return head


async def resolve(log: EventLog, room: RoomId, moment: Moment | None) -> Seq:
    """The seq of ``room``'s log that ``moment`` means (capped at the head)."""
    if moment is not None and moment.phase_end is not None:
        return await phase_end(log, room, moment.phase_end)
    return await resolve_seq(log, room, moment.point if moment else None)


def day_in_words(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def day_of(time_ms: int) -> str:
    """``"23 November 2026"`` for a moment (UTC)."""
    return day_in_words(datetime.fromtimestamp(time_ms / 1000, tz=UTC).date())


def time_in_words(time_ms: int) -> str:
    """``"14:32 UTC on 23 November 2026"``."""
    moment = datetime.fromtimestamp(time_ms / 1000, tz=UTC)
    return f"{moment:%H:%M} UTC on {day_in_words(moment.date())}"


def moment_words(moment: Moment | None, rooms_seq: int | None = None) -> str:
    """``"as it stands now"``, ``"as it stood at the end of the vote"``, ``"as it stood at 14:32 UTC on …"``."""
    if moment is None:
        return "as it stands now"
    if moment.phase_end is not None:
        return f"as it stood at {PHASE_END_WORDS[moment.phase_end]}"
    point = moment.point
    if point is not None and point.time_ms is not None:
        return f"as it stood at {time_in_words(point.time_ms)}"
    return f"as it stood after change {rooms_seq if rooms_seq is not None else point.seq if point else 0}"
