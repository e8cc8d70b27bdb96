"""Bringing notes of the breakout rooms to the plenary: copied by the server, with authorship and provenance.

Only the server may write a note carrying someone else's authorship, so a
facilitator asks for the copy and the server makes it: the note as its author
wrote it (signature included, if they signed), where it came from (room and
note), and the dots it had there. Only notes their authors shared beyond the
room (scope ``event`` or ``public``) travel; a withdrawn note never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Map

from candor.board import model
from candor.board.projection import board_to_json
from candor.errors import BadRequest, Forbidden
from candor.events.reveal import server_note_id
from candor.history.rebuild import rebuild
from candor.ids import SERVER_ACCESS, RoomId
from candor.log.base import EventLog
from candor.rooms.registry import RoomRegistry

MAX_NOTES = 200
SHARED_SCOPES = ("event", "public")
SLOT_WIDTH, SLOT_HEIGHT, SLOTS_PER_ROW, MARGIN = 188, 150, 5, 12


@dataclass(frozen=True, slots=True)
class Copied:
    room: RoomId
    note: str
    copy: str


def _dots(ballot: Any) -> int:
    if not isinstance(ballot, dict):
        return 0
    return sum(int(v) for v in ballot.values() if isinstance(v, int | float) and not isinstance(v, bool) and v > 0)


def copy_of(room: RoomId, note_id: str, note: dict[str, Any], ballot: Any) -> dict[str, Any]:
    """The fields of a plenary copy of ``note``: as its author wrote it, with where it came from and its dots."""
    if note.get("withdrawn") is True:
        raise Forbidden(f"note {note_id} was withdrawn by its author")
    if note.get("scope", "room") not in SHARED_SCOPES:
        raise Forbidden(f"the author of note {note_id} kept it in their room")
    copied = {key: note.get(key) for key in ("section", "text", "colour", "author", "author_name", "scope")}
    copied["created_ms"] = note.get("created_ms")
    copied["from_room"] = note.get("from_room") or room
    copied["from_note"] = note.get("from_note") or note_id
    copied["carried_votes"] = int(note.get("carried_votes") or 0) + _dots(ballot)
    copied["cluster"] = None
    return {key: value for key, value in copied.items() if value is not None}


def _adding(copies: list[dict[str, Any]], ids: list[str]) -> Callable[[Doc[Any]], None]:
    def add(doc: Doc[Any]) -> None:
        notes = doc.get(model.NOTES, type=Map)
        taken: dict[str, int] = {}
        for note in notes.values():
            if isinstance(note, Map):
                section = note.get("section")
                taken[str(section)] = taken.get(str(section), 0) + 1
        for note_id, fields in zip(ids, copies, strict=True):
            slot = taken.get(fields["section"], 0)
            taken[fields["section"]] = slot + 1
            x = MARGIN + (slot % SLOTS_PER_ROW) * SLOT_WIDTH
            y = MARGIN + (slot // SLOTS_PER_ROW) * SLOT_HEIGHT
            notes[note_id] = Map({**fields, "x": x, "y": y})

    return add


def _removing(note_ids: list[str]) -> Callable[[Doc[Any]], None]:
    def remove(doc: Doc[Any]) -> None:
        notes = doc.get(model.NOTES, type=Map)
        for note_id in note_ids:
            if note_id in notes:
                del notes[note_id]

    return remove


async def to_plenary(
    log: EventLog,
    registry: RoomRegistry,
    plenary: RoomId,
    sources: list[tuple[RoomId, str]],
    *,
    move: bool = False,
) -> list[Copied]:
    """Copy the notes ``sources`` (room, note id) to ``plenary``; with ``move``, remove them where they were.

    All or nothing: one note that may not travel refuses the whole request.
    """
    if not sources or len(sources) > MAX_NOTES:
        raise BadRequest(f"give 1-{MAX_NOTES} notes to bring to the plenary")
    boards: dict[RoomId, dict[str, Any]] = {}
    copies: list[dict[str, Any]] = []
    for room, note_id in sources:
        if room == plenary:
            raise BadRequest(f"note {note_id} is on the plenary already")
        if room not in boards:
            boards[room] = board_to_json((await rebuild(log, room, await log.head(room))).doc)
        note = boards[room][model.NOTES].get(note_id)
        if not isinstance(note, dict):
            raise BadRequest(f"room {room} has no note {note_id}")
        copies.append(copy_of(room, note_id, note, boards[room][model.VOTES].get(note_id)))
    ids = [server_note_id() for _ in copies]
    await registry.submit(plenary, _adding(copies, ids), SERVER_ACCESS)
    if move:
        by_room: dict[RoomId, list[str]] = {}
        for room, note_id in sources:
            by_room.setdefault(room, []).append(note_id)
        for room, note_ids in by_room.items():
            await registry.submit(room, _removing(note_ids), SERVER_ACCESS)
    return [Copied(room, note_id, copy) for (room, note_id), copy in zip(sources, ids, strict=True)]
