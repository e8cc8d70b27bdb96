"""What the facilitator's console reads from boards: counts per section and top-voted ideas.

Pure functions over a board's JSON projection (candor.board.projection): no
storage, no HTTP. Counts of private drafts are numbers only: no draft's text
ever leaves this module.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from candor.board import model

SHAREABLE = ("event", "public")


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
