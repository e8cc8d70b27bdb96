"""Words every renderer shares: vote counts, audiences, moments, counts-only parts and where notes came from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from candor.export.model import Audience, Export, ExportNote
from candor.export.moments import time_in_words

if TYPE_CHECKING:
    from candor.export.slides import Line

AUDIENCE_TEXT: Final[dict[Audience, str]] = {
    "room": "Room export: every note of the room",
    "event": "Event export: notes their authors shared with the event",
    "public": "Public export: notes their authors made public",
}
NO_NOTES: Final = "No notes to show."
CONTINUED: Final = "(continued)"
OTHER_NOTES: Final = "Other notes"  # a section's notes in no cluster, after its clusters
EMPTY_PART: Final = "Nothing was written here."
WHAT_NEXT: Final = "What next?"
THANKS: Final = "Thank you for taking part."


def votes_text(votes: float) -> str:
    """``"1 vote"``, ``"3 votes"``; empty for none."""
    if not votes:
        return ""
    shown = int(votes) if float(votes).is_integer() else votes
    return f"{shown} vote" if shown == 1 else f"{shown} votes"


def counts_text(count: int) -> str:
    """What a counts-only part says in place of its notes."""
    shared = "1 note was" if count == 1 else f"{count} notes were"
    return f"{shared} shared here. Their words stay in the rooms where they were written."


def export_line(export: Export) -> str:
    """One line on what this export is, for whom, and of which moment."""
    return f"{AUDIENCE_TEXT[export.audience]}, {export.moment}."


def note_suffix(note: ExportNote) -> str:
    """What follows a note's text: its votes and, for a signed note only, its author's name."""
    parts = [votes_text(note.votes)] if note.votes else []
    if note.author_name:
        parts.append(note.author_name)
    return " \u00b7 ".join(parts)


def provenance(export: Export) -> list[str]:
    """Speaker-note lines on where a slide comes from and under which consent rule."""
    lines = [export_line(export)]
    for room in export.rooms:
        moment = f"after change {room.seq}" + (f", {time_in_words(room.time_ms)}" if room.time_ms else "")
        lines.append(f"{room.label} ({room.kind}): the board {moment}.")
    lines.append(f"Exported {time_in_words(export.generated_ms)}.")
    return lines


def speaker_note(base: str, lines: Sequence[Line]) -> str:
    """A slide's speaker notes: its provenance, then each note's rooms, votes and signature."""
    out = [base] if base else []
    notes = [line for line in lines if line.note is not None]
    if notes:
        out.append("Notes on this slide:")
    for line in notes:
        note = line.note
        assert note is not None
        if note.purged:
            out.append("- [withdrawn]: withdrawn by its author, text purged")
            continue
        start = note.text if len(note.text) <= 60 else note.text[:57].rstrip() + "\u2026"
        where = " \u2192 ".join(note.rooms) if note.rooms else "this room"
        signed = f"signed by {note.author_name}" if note.author_name else "anonymous"
        out.append(f"- \u201c{start}\u201d: {where}; {votes_text(note.votes) or 'no votes'}; {signed}")
    return "\n".join(out)
