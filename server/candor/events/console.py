"""What the facilitator's console reads from boards: counts per section, top-voted ideas, plenary copies.

Pure functions over a board's JSON projection (candor.board.projection): no
storage, no HTTP. Counts of private drafts are numbers only: no draft's text
ever leaves this module.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from pycrdt import Doc, Map

from candor.board import model

SHAREABLE = ("event", "public")
# The voter a carried tally is filed under on the plenary: never a participant's pseudonym,
# so dots carried from a room never count against anyone's budget on the plenary.
CARRIED_PREFIX = "room:"
MAX_COUNT = 99


def _notes(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    notes = board.get(model.NOTES) or {}
    return {k: v for k, v in notes.items() if isinstance(v, dict) and isinstance(v.get("section"), str)}


def is_shown(note: dict[str, Any]) -> bool:
    """A note that is on the board for people to see: not withdrawn by its author."""
    return not note.get("withdrawn")


def per_section(board: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for note in _notes(board).values():
        if is_shown(note):
            counts[note["section"]] = counts.get(note["section"], 0) + 1
    return counts


def withdrawn_count(board: dict[str, Any], purged: Collection[str] = ()) -> int:
    """Withdrawn notes whose text is still stored (not yet purged)."""
    return sum(1 for note_id, note in _notes(board).items() if not is_shown(note) and note_id not in purged)


def board_figures(board: dict[str, Any], purged: Collection[str] = ()) -> dict[str, Any]:
    """Phase, lock, timer and the notes of one board, counted per section; ``purged``: ids already purged."""
    meta = board.get(model.META) or {}
    counts = per_section(board)
    timer = meta.get("timer")
    return {
        "phase": meta.get("phase", "collect"),
        "locked": bool(meta.get("locked")),
        "timer_ends_at_ms": timer.get("ends_at_ms") if isinstance(timer, dict) else None,
        "notes": sum(counts.values()),
        "notes_per_section": counts,
        "withdrawn": withdrawn_count(board, purged),
    }


def drafts_figures(drafts: list[dict[str, Any]]) -> dict[str, Any]:
    """Private drafts in progress across the drafts rooms of one board: how many, per section, by how many people."""
    counts: dict[str, int] = {}
    writers = 0
    for board in drafts:
        mine = per_section(board)
        writers += bool(mine)
        for section, n in mine.items():
            counts[section] = counts.get(section, 0) + n
    return {"drafts": sum(counts.values()), "drafts_per_section": counts, "drafting": writers}


def tally(board: dict[str, Any], note_id: str) -> int:
    ballot = (board.get(model.VOTES) or {}).get(note_id)
    if not isinstance(ballot, dict):
        return 0
    return int(sum(c for c in ballot.values() if isinstance(c, (int, float)) and not isinstance(c, bool)))


def top_ideas(board: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The notes its authors shared beyond the room, most votes first (then oldest first)."""
    ideas = [
        {
            "note": note_id,
            "text": note.get("text", ""),
            "section": note["section"],
            "scope": note.get("scope", "room"),
            "author_name": note.get("author_name"),
            "votes": tally(board, note_id),
            "created_ms": note.get("created_ms") or 0,
        }
        for note_id, note in _notes(board).items()
        if is_shown(note) and note.get("scope", "room") in SHAREABLE and note.get("text")
    ]
    ideas.sort(key=lambda idea: (-idea["votes"], idea["created_ms"]))
    return ideas[:limit]


def copy_id(room: str, note_id: str) -> str:
    """The plenary id of a note copied from ``room``: sending it again finds the copy instead of adding another."""
    return f"{room}.{note_id}"


def plenary_copies(
    room: str, board: dict[str, Any], note_ids: list[str], section_ids: set[str]
) -> dict[str, tuple[dict[str, Any], int]]:
    """The copies to add (plenary id -> (fields, votes carried)) for the chosen notes of one room.

    Only notes shared beyond the room, not withdrawn, in a section the plenary has.
    """
    notes = _notes(board)
    copies: dict[str, tuple[dict[str, Any], int]] = {}
    for note_id in note_ids:
        note = notes.get(note_id)
        if note is None or not is_shown(note) or note.get("scope", "room") not in SHAREABLE:
            continue
        if note["section"] not in section_ids:
            continue
        fields = {k: v for k, v in note.items() if k in model.NOTE_FIELDS}
        fields.update(cluster=None, from_room=note.get("from_room") or room, x=0, y=0)
        copies[copy_id(room, note_id)] = (fields, min(MAX_COUNT, tally(board, note_id)))
    return copies


def adding_notes(copies: dict[str, tuple[dict[str, Any], int]]) -> Callable[[Doc[Any]], None]:
    """The edit that puts the copies not yet there on the plenary (a second edit carries their votes:
    a ballot may only name a note the board already holds)."""

    def change(doc: Doc[Any]) -> None:
        notes = doc.get(model.NOTES, type=Map)
        for plenary_id, (fields, _) in copies.items():
            if plenary_id not in notes:
                notes[plenary_id] = Map(fields)

    return change


def carrying_votes(room: str, copies: dict[str, tuple[dict[str, Any], int]]) -> Callable[[Doc[Any]], None]:
    """The edit that files each copy's votes from ``room`` under one carried voter."""

    def change(doc: Doc[Any]) -> None:
        votes = doc.get(model.VOTES, type=Map)
        for plenary_id, (_, count) in copies.items():
            if not count:
                continue
            ballot = votes.get(plenary_id)
            if isinstance(ballot, Map):
                ballot[CARRIED_PREFIX + room] = count
            else:
                votes[plenary_id] = Map({CARRIED_PREFIX + room: count})

    return change
