"""Words every renderer shares: vote counts, moments, audiences and the provenance of a room."""

from __future__ import annotations

from typing import Final

from candor.export.model import Audience, Export, ExportNote, ExportRoom
from candor.history.rebuild import format_moment

AUDIENCE_TEXT: Final[dict[Audience, str]] = {
    "room": "Room export: every note of the room",
    "event": "Event export: notes their authors shared with the event",
    "public": "Public export: notes their authors made public",
}
OTHER_IDEAS: Final = "Other ideas"
NO_NOTES: Final = "No notes to show."


def votes_text(votes: float) -> str:
    """``"1 vote"``, ``"3 votes"``; empty for none."""
    if not votes:
        return ""
    shown = int(votes) if float(votes).is_integer() else votes
    return f"{shown} vote" if shown == 1 else f"{shown} votes"


def moment_text(time_ms: int | None) -> str:
    if time_ms is None:
        return "the start"
    return format_moment(time_ms).replace("T", " ")[:16] + " UTC"


def room_moment(room: ExportRoom) -> str:
    """``"as it stood at 2026-11-23 14:32 UTC (seq 42)"``."""
    return f"as it stood at {moment_text(room.time_ms)} (seq {room.seq})"


def export_line(export: Export) -> str:
    """One line on what this export is, for whom, and of which moment."""
    moment = f"as it stood at {export.requested_at}" if export.requested_at else "as it stands now"
    if export.kind == "room" and export.rooms:
        moment = room_moment(export.rooms[0])
    return f"{AUDIENCE_TEXT[export.audience]}, {moment}. Exported {moment_text(export.generated_ms)}."


def note_suffix(note: ExportNote) -> str:
    """What follows a note's text: its votes and, for a signed note only, its author's name."""
    parts = [votes_text(note.votes)] if note.votes else []
    if note.author_name:
        parts.append(note.author_name)
    if note.from_room:
        parts.append(f"from {note.from_room}")
    return " · ".join(parts)


def provenance(export: Export, room: ExportRoom | None) -> list[str]:
    """Speaker-note lines: where a slide's notes come from and under which consent rule."""
    lines = [AUDIENCE_TEXT[export.audience] + "."]
    if export.event_id:
        lines.append(f"Event: {export.title} ({export.event_id}).")
    if room is not None:
        lines.append(f"Room: {room.label} ({room.id}, {room.kind}), {room_moment(room)}.")
    if export.requested_at:
        lines.append(f"Requested moment: {export.requested_at}.")
    lines.append(f"Exported {moment_text(export.generated_ms)}.")
    return lines


def note_provenance(note: ExportNote, room: str | None = None) -> str:
    """``"n-1a2b: scope event, 3 votes, signed by Ada"`` for a speaker note."""
    if note.purged:
        return f"{note.id}: withdrawn by its author, text purged"
    parts = [f"scope {note.scope}", votes_text(note.votes) or "no votes"]
    parts.append(f"signed by {note.author_name}" if note.author_name else "anonymous")
    if room:
        parts.append(f"room {room}")
    return f"{note.id}: " + ", ".join(parts)
