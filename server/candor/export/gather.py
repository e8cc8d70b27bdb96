"""Gathering an export from the log: each room rebuilt at the requested moment, then filtered for the audience."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from candor.board.projection import board_to_json
from candor.errors import BadRequest, RoomNotFound
from candor.export.ideas import practical_ideas
from candor.export.model import Audience, Export, ExportRoom, RoomInfo, clean_text, export_room
from candor.history.rebuild import PointInTime, parse_point, rebuild, resolve_seq
from candor.ids import RoomId
from candor.log.base import PurgeableLog

# Hears (room, records replayed, records to replay) while a room is rebuilt.
RoomProgress = Callable[[RoomInfo, int, int], None]

EVENT_AUDIENCES: tuple[Audience, ...] = ("event", "public")


@dataclass(frozen=True, slots=True)
class EventInfo:
    """The event a room belongs to, as an export names it."""

    id: str
    title: str
    description: str | None = None


async def room_at(
    log: PurgeableLog,
    info: RoomInfo,
    point: PointInTime | None,
    audience: Audience,
    purged: frozenset[str],
    room_labels: Mapping[str, str],
    progress: RoomProgress | None = None,
) -> ExportRoom | None:
    """One room as it stood at ``point`` (None: now), filtered for ``audience``; None when it had no record yet.

    Notes the log says were purged count as purged, besides those in ``purged``.
    """
    room = RoomId(info.id)
    seq = await resolve_seq(log, room, point)
    if seq == 0:
        return None
    purged = purged | frozenset(await log.purged_notes(room))
    report = None if progress is None else (lambda done, total: progress(info, done, total))
    rebuilt = await rebuild(log, room, seq, progress=report)
    return export_room(
        board_to_json(rebuilt.doc),
        info,
        audience,
        seq=rebuilt.seq,
        time_ms=rebuilt.time_ms,
        purged=purged,
        room_labels=room_labels,
    )


async def gather_room(
    log: PurgeableLog,
    info: RoomInfo,
    audience: Audience,
    at: str | None = None,
    *,
    event: EventInfo | None = None,
    room_labels: Mapping[str, str] | None = None,
    purged: Collection[str] = frozenset(),
    progress: RoomProgress | None = None,
) -> Export:
    """A room's export at ``at`` (a seq or an ISO time; None: now)."""
    point = parse_point(at) if at else None
    room = await room_at(log, info, point, audience, frozenset(purged), room_labels or {}, progress)
    if room is None:
        raise RoomNotFound(f"room {info.id!r} has no recorded changes at that point")
    title = f"{clean_text(event.title)}: {room.label}" if event is not None else room.board_title
    return Export(
        kind="room",
        audience=audience,
        title=title,
        description=clean_text(event.description) or None if event is not None else None,
        event_id=event.id if event is not None else None,
        requested_at=at,
        generated_ms=int(time.time() * 1000),
        rooms=(room,),
        ideas=(),
    )


async def gather_event(
    log: PurgeableLog,
    event: EventInfo,
    rooms: list[RoomInfo],
    audience: Audience = "event",
    at: str | None = None,
    *,
    purged: Collection[str] = frozenset(),
    progress: RoomProgress | None = None,
) -> Export:
    """Every room of an event at the ISO time ``at`` (None: now), breakouts first, and the practical-ideas synthesis.

    Raises BadRequest for a seq (every room has its own log) and for the
    ``room`` audience (room-scoped notes never leave their room).
    """
    if audience not in EVENT_AUDIENCES:
        raise BadRequest("an event export is for the event or the public audience; room-scoped notes stay in the room")
    point = parse_point(at) if at else None
    if point is not None and point.seq is not None:
        raise BadRequest(
            "'at' for an event export must be an ISO 8601 time: a seq number is a position in one room's log"
        )
    labels = {room.id: room.label for room in rooms}
    ordered = [r for r in rooms if r.kind != "plenary"] + [r for r in rooms if r.kind == "plenary"]
    built: list[ExportRoom] = []
    for info in ordered:
        room = await room_at(log, info, point, audience, frozenset(purged), labels, progress)
        # A plenary is shown only when it holds something; every breakout gets its slide.
        if room is not None and (room.kind != "plenary" or room.note_count):
            built.append(room)
    return Export(
        kind="event",
        audience=audience,
        title=clean_text(event.title) or event.id,
        description=clean_text(event.description) or None,
        event_id=event.id,
        requested_at=at,
        generated_ms=int(time.time() * 1000),
        rooms=tuple(built),
        ideas=practical_ideas(tuple(built)),
    )
