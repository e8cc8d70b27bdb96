"""Gathering an export from the log: each room rebuilt at the requested moment, then merged and filtered."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from candor.board import model
from candor.board.projection import board_to_json
from candor.errors import BadRequest, RoomNotFound
from candor.export.frame import build_frame, event_day
from candor.export.model import Audience, Export, ExportRoom, RoomInfo, Stories, clean_text
from candor.export.moments import Moment, day_of, moment_words, parse_moment, resolve
from candor.export.stories import tell_stories
from candor.export.themes import (
    RoomBoard,
    SectionRule,
    build_sections,
    merged_rules,
    placed_notes,
    section_rules,
)
from candor.history.rebuild import rebuild
from candor.ids import RoomId
from candor.log.redaction import PurgeableLog
from candor.workshops.details import EventDetails

# Hears (room, records replayed, records to replay) while a room is rebuilt.
RoomProgress = Callable[[RoomInfo, int, int], None]

EVENT_AUDIENCES: tuple[Audience, ...] = ("event", "public")


@dataclass(frozen=True, slots=True)
class EventInfo:
    """The event a room belongs to, as an export names it: its template (frozen at creation) and details."""

    id: str
    title: str
    template: Mapping[str, Any] = field(default_factory=dict)
    details: EventDetails = field(default_factory=EventDetails)
    created_ms: int = 0

    @property
    def description(self) -> str | None:
        return clean_text(self.template.get("description")) or None


async def board_at(
    log: PurgeableLog,
    info: RoomInfo,
    moment: Moment | None,
    purged: frozenset[str],
    progress: RoomProgress | None = None,
) -> RoomBoard | None:
    """One room's board as it stood at ``moment`` (None: now); None when it had no record yet.

    Notes the log says were purged count as purged, besides those in ``purged``.
    """
    room = RoomId(info.id)
    seq = await resolve(log, room, moment)
    if seq == 0:
        return None
    purged = purged | frozenset(await log.purged_notes(room))
    report = None if progress is None else (lambda done, total: progress(info, done, total))
    rebuilt = await rebuild(log, room, seq, progress=report)
    return RoomBoard(info, board_to_json(rebuilt.doc), rebuilt.seq, rebuilt.time_ms, purged)


def _room(board: RoomBoard) -> ExportRoom:
    meta = board.root(model.META)
    label = clean_text(board.info.label) or board.info.id
    title = clean_text(meta.get("title")) or label
    return ExportRoom(board.info.id, label, board.info.kind, title, board.seq, board.time_ms)


def _with_template_privacy(board_rules: list[SectionRule], template: Sequence[SectionRule]) -> list[SectionRule]:
    """A board's own sections, each with what its template says may leave the room."""
    known = {rule.id: rule for rule in template}
    return [
        SectionRule(r.id, r.title, r.group, r.description, r.prompts, known[r.id].outside_room, known[r.id].closing)
        if r.id in known
        else r
        for r in board_rules
    ]


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
    """A room's export at ``at`` (a seq, an ISO time or end-of-PHASE; None: now): the room's own board."""
    moment = parse_moment(at)
    board = await board_at(log, info, moment, frozenset(purged), progress)
    if board is None:
        raise RoomNotFound(f"room {info.id!r} has no recorded changes at that point")
    room = _room(board)
    template = section_rules(event.template.get("sections")) if event is not None else []
    rules = _with_template_privacy(section_rules(board.board.get(model.SECTIONS)), template)
    placed = placed_notes([board], rules, audience, room_labels or {})
    now = int(time.time() * 1000)
    return Export(
        kind="room",
        audience=audience,
        title=f"{clean_text(event.title)}: {room.label}" if event is not None else room.board_title,
        description=event.description if event is not None else None,
        event_id=event.id if event is not None else None,
        requested_at=at,
        moment=moment_words(moment, room.seq),
        generated_ms=now,
        date=event_day(event.details, event.created_ms) if event is not None else day_of(room.time_ms or now),
        rooms=(room,),
        sections=build_sections(placed, rules, audience),
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
    """The whole event at ``at`` (an ISO time or end-of-PHASE; None: now), one part per theme.

    Raises BadRequest for a seq (every room has its own log) and for the
    ``room`` audience (room-scoped notes never leave their room).
    """
    if audience not in EVENT_AUDIENCES:
        raise BadRequest("an event export is for the event or the public audience; room-scoped notes stay in the room")
    moment = parse_moment(at)
    if moment is not None and moment.point is not None and moment.point.seq is not None:
        raise BadRequest(
            "'at' for an event export must be an ISO 8601 time or end-of-PHASE: a seq number is a position in one "
            "room's log"
        )
    labels = {room.id: room.label for room in rooms}
    ordered = [r for r in rooms if r.kind != "plenary"] + [r for r in rooms if r.kind == "plenary"]
    boards = [b for info in ordered if (b := await board_at(log, info, moment, frozenset(purged), progress))]
    rules = merged_rules(section_rules(event.template.get("sections")), boards)
    placed = placed_notes(boards, rules, audience, labels)
    stories = _stories(event.template, rules, placed)
    told = frozenset(part for part in _narrative_ids(event.template) if stories is not None)
    frame = build_frame(event.template, event.details, event.created_ms)
    return Export(
        kind="event",
        audience=audience,
        title=clean_text(event.title) or event.id,
        description=event.description,
        event_id=event.id,
        requested_at=at,
        moment=moment_words(moment),
        generated_ms=int(time.time() * 1000),
        date=frame.date,
        rooms=tuple(_room(b) for b in boards),
        sections=build_sections(placed, rules, audience, leave_out=told),
        frame=frame,
        stories=stories,
    )


def _narrative_ids(template: Mapping[str, Any]) -> list[str]:
    narrative = template.get("narrative")
    ids = narrative.get("sections") if isinstance(narrative, Mapping) else None
    return [s for s in ids if isinstance(s, str)] if isinstance(ids, list) else []


def _stories(template: Mapping[str, Any], rules: list[SectionRule], placed: list[Any]) -> Stories | None:
    ids = _narrative_ids(template)
    by_id = {rule.id: rule for rule in rules}
    parts = [by_id[s] for s in ids if s in by_id and by_id[s].outside_room != "nothing"]
    if not parts:
        return None
    narrative = template.get("narrative")
    title = clean_text(narrative.get("title")) if isinstance(narrative, Mapping) else ""
    return tell_stories(title or "Stories", parts, placed)
