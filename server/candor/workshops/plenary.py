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
from candor.errors import BadRequest
from candor.history.rebuild import rebuild
from candor.ids import SERVER_ACCESS, RoomId
from candor.log.snapshots import SnapshottedLog
from candor.rooms.registry import RoomRegistry
from candor.workshops.console import tally
from candor.workshops.reveal import server_note_id

MAX_NOTES = 200
SHARED_SCOPES = ("event", "public")
SLOT_WIDTH, SLOT_HEIGHT, SLOTS_PER_ROW, MARGIN = 188, 150, 5, 12


@dataclass(frozen=True, slots=True)
class Copied:
    room: RoomId
    note: str
    copy: str


@dataclass(frozen=True, slots=True)
class Sent:
    copied: list[Copied]
    skipped: int  # kept in their room, withdrawn, in no section of the plenary, or there already


def copy_of(room: RoomId, note_id: str, note: dict[str, Any], board: dict[str, Any]) -> dict[str, Any] | None:
    """The fields of a plenary copy of ``note``, as its author wrote it with where it came from and its dots;
    None when it may not travel (kept in its room, or withdrawn)."""
    if note.get("withdrawn") is True or note.get("scope", "room") not in SHARED_SCOPES or not note.get("text"):
        return None
    copied = {key: note.get(key) for key in ("section", "text", "colour", "author", "author_name", "scope")}
    copied["created_ms"] = note.get("created_ms")
    copied["from_room"] = note.get("from_room") or room
    copied["from_note"] = note.get("from_note") or note_id
    copied["carried_votes"] = int(note.get("carried_votes") or 0) + tally(board, note_id)
    copied["cluster"] = None
    return {key: value for key, value in copied.items() if value is not None}


def _already_there(plenary: dict[str, Any], copy: dict[str, Any]) -> bool:
    return any(
        isinstance(note, dict)
        and note.get("from_room") == copy["from_room"]
        and note.get("from_note") == copy["from_note"]
        and note.get("withdrawn") is not True
        for note in plenary[model.NOTES].values()
    )


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
    log: SnapshottedLog,
    registry: RoomRegistry,
    plenary: RoomId,
    sources: list[tuple[RoomId, str]],
    *,
    move: bool = False,
) -> Sent:
    """Copy the notes ``sources`` (room, note id) to ``plenary``; with ``move``, remove them where they were.

    A note that may not travel (kept in its room by its author, withdrawn, or in
    a section the plenary does not have) is skipped, and so is one whose copy is
    on the plenary already: sending twice adds nothing. A note that is not
    there at all is a BadRequest.
    """
    if not sources or len(sources) > MAX_NOTES:
        raise BadRequest(f"give 1-{MAX_NOTES} notes to bring to the plenary")
    target = await _board(log, plenary)
    sections = {s["id"] for s in target[model.SECTIONS] if isinstance(s, dict) and isinstance(s.get("id"), str)}
    boards: dict[RoomId, dict[str, Any]] = {}
    copies: list[dict[str, Any]] = []
    chosen: list[tuple[RoomId, str]] = []
    skipped = 0
    for room, note_id in dict.fromkeys(sources):
        if room == plenary:
            raise BadRequest(f"note {note_id[:128]} is on the plenary already")
        if room not in boards:
            boards[room] = await _board(log, room)
        note = boards[room][model.NOTES].get(note_id)
        if not isinstance(note, dict):
            raise BadRequest(f"room {room} has no note {note_id[:128]!r}")
        copy = copy_of(room, note_id, note, boards[room])
        if copy is None or copy["section"] not in sections or _already_there(target, copy):
            skipped += 1
            continue
        copies.append(copy)
        chosen.append((room, note_id))
    ids = [server_note_id() for _ in copies]
    if copies:
        await registry.submit(plenary, _adding(copies, ids), SERVER_ACCESS)
    if move:
        by_room: dict[RoomId, list[str]] = {}
        for room, note_id in chosen:
            by_room.setdefault(room, []).append(note_id)
        for room, note_ids in by_room.items():
            await registry.submit(room, _removing(note_ids), SERVER_ACCESS)
    return Sent([Copied(room, note_id, copy) for (room, note_id), copy in zip(chosen, ids, strict=True)], skipped)


async def _board(log: SnapshottedLog, room: RoomId) -> dict[str, Any]:
    return board_to_json((await rebuild(log, room, await log.head(room))).doc)
