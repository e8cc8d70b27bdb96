"""A deck plan both slide renderers (HTML, pptx) draw: which slides, their lines, and their speaker notes.

A room export has a title slide and a slide per section with notes; an
event export adds a slide per room (its sections and counts) before that
room's section slides, and ends with the practical-ideas synthesis. A section
with more than :data:`MAX_NOTES` notes gets a slide per cluster instead, and
any slide whose text would not fit at a readable size continues on the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from candor.export.model import Export, ExportNote, ExportRoom, ExportSection
from candor.export.wording import (
    NO_NOTES,
    OTHER_IDEAS,
    export_line,
    note_provenance,
    note_suffix,
    provenance,
    room_moment,
    votes_text,
)

# Note colours as the board shows them, as a stripe beside each note.
COLOURS: Final = {
    "yellow": "#f5c400",
    "pink": "#e86aa6",
    "blue": "#4a90d9",
    "green": "#4caf50",
    "orange": "#f08a24",
    "purple": "#8e6ac8",
}
MAX_NOTES: Final = 8
# Characters per line and lines per slide at 20 pt on a 16:9 slide's body area.
CHARS_PER_LINE: Final = 80
LINES_PER_SLIDE: Final = 14.0
HEADING_LINES: Final = 1.5
# Characters per line of the subtitle (prompts, 18 pt); the body has room for two such lines.
SUBTITLE_CHARS_PER_LINE: Final = 105
SUBTITLE_LINES_FREE: Final = 2


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a slide's body: a sub-heading (a cluster), a note, or plain text."""

    kind: Literal["heading", "note", "text"]
    text: str
    detail: str = ""
    note: ExportNote | None = None
    room_label: str | None = None


@dataclass(frozen=True, slots=True)
class Slide:
    kind: Literal["title", "room", "section", "ideas"]
    title: str
    subtitle: str
    lines: tuple[Line, ...]
    notes: str  # speaker notes: provenance
    footer: str


Group = tuple[Line | None, list[Line]]


def _cost(line: Line) -> float:
    if line.kind == "heading":
        return HEADING_LINES
    return max(1, math.ceil((len(line.text) + len(line.detail) + 3) / CHARS_PER_LINE)) + 0.25


def subtitle_lines(text: str) -> int:
    """How many lines a slide's subtitle takes."""
    return sum(max(1, math.ceil(len(part) / SUBTITLE_CHARS_PER_LINE)) for part in text.split("\n")) if text else 0


def paginate(groups: list[Group], subtitle: str = "") -> list[list[Line]]:
    """Lines split into slides that fit below ``subtitle``; a heading repeats on the slide its group continues on."""
    budget = LINES_PER_SLIDE - max(0, subtitle_lines(subtitle) - SUBTITLE_LINES_FREE)
    pages: list[list[Line]] = []
    page: list[Line] = []
    used, count = 0.0, 0
    for heading, lines in groups:
        pending = heading
        for line in lines:
            cost = _cost(line) + (_cost(pending) if pending else 0)
            if page and (used + cost > budget or count >= MAX_NOTES):
                pages.append(page)
                page, used, count = [], 0.0, 0
                pending = heading
                cost = _cost(line) + (_cost(pending) if pending else 0)
            if pending is not None:
                page.append(pending)
                pending = None
            page.append(line)
            used += cost
            count += 1
    if page:
        pages.append(page)
    return pages


def _note_line(note: ExportNote, room_label: str | None = None) -> Line:
    detail = note_suffix(note)
    if room_label:
        detail = f"{detail} · {room_label}" if detail else room_label
    return Line("note", note.text, detail, note, room_label)


def _heading(text: str, votes: float) -> Line:
    return Line("heading", text, votes_text(votes))


def _speaker_notes(export: Export, room: ExportRoom | None, about: str, lines: list[Line]) -> str:
    out = [*provenance(export, room), about]
    notes = [line for line in lines if line.note is not None]
    if notes:
        out.append("Notes on this slide:")
        out += [f"- {note_provenance(line.note, line.room_label)}" for line in notes if line.note is not None]
    return "\n".join(out)


def _titled(base: str, pages: list[list[Line]]) -> list[tuple[str, list[Line]]]:
    if len(pages) <= 1:
        return [(base, pages[0] if pages else [])]
    return [(f"{base} ({n}/{len(pages)})", page) for n, page in enumerate(pages, 1)]


def _section_slides(export: Export, room: ExportRoom, section: ExportSection) -> list[Slide]:
    prefix = f"{room.label}: " if export.kind == "event" else ""
    subtitle = " ".join(section.prompts) or (section.description or "")
    footer = f"{room.label} · {room_moment(room)}"
    about = f"Section: {section.title} ({section.id or 'no longer on the board'})."
    loose: Group = (None, [_note_line(n) for n in section.notes])
    clusters: list[Group] = [(_heading(c.label, c.votes), [_note_line(n) for n in c.notes]) for c in section.clusters]
    if len(section.all_notes) <= MAX_NOTES:
        parts = [(prefix + section.title, paginate([loose, *clusters], subtitle))]
    else:  # a slide (or more) per cluster
        parts = [(prefix + section.title, paginate([loose], subtitle))] if section.notes else []
        for cluster, (_, lines) in zip(section.clusters, clusters, strict=True):
            parts.append((f"{prefix}{section.title}: {cluster.label}", paginate([(None, lines)], subtitle)))
    slides = []
    for base, pages in parts:
        for title, lines in _titled(base, pages):
            notes = _speaker_notes(export, room, about, lines)
            slides.append(Slide("section", title, subtitle, tuple(lines), notes, footer))
    return slides


def _room_slide(export: Export, room: ExportRoom) -> Slide:
    shown = [s for s in room.sections if not s.is_empty]
    lines = [Line("text", s.title, _count(len(s.all_notes))) for s in shown] or [Line("text", NO_NOTES)]
    notes = _speaker_notes(export, room, f"Overview of {room.label}: sections with notes shared.", [])
    moment = room_moment(room)
    return Slide("room", room.label, moment[:1].upper() + moment[1:], tuple(lines), notes, room.label)


def _count(n: int) -> str:
    return "1 note" if n == 1 else f"{n} notes"


def _idea_slides(export: Export) -> list[Slide]:
    slides = []
    about = "Practical ideas across rooms: the practical-ideas section of every room, grouped by cluster label."
    for group in export.ideas:
        base = f"Practical ideas: {group.label or OTHER_IDEAS}"
        pages = paginate([(None, [_note_line(item.note, item.room_label) for item in group.items])])
        rooms = sorted({item.room_label for item in group.items})
        subtitle = f"{votes_text(group.votes) or 'No votes'} · from {', '.join(rooms)}"
        for title, lines in _titled(base, pages):
            notes = _speaker_notes(export, None, about, lines)
            slides.append(Slide("ideas", title, subtitle, tuple(lines), notes, "All rooms"))
    return slides


def plan_slides(export: Export) -> list[Slide]:
    """The deck: title slide, then rooms and sections, then the synthesis."""
    first_room = export.rooms[0] if export.kind == "room" and export.rooms else None
    subtitle = "\n".join(part for part in (export.description, export_line(export)) if part)
    title_notes = "\n".join(provenance(export, first_room))
    slides = [Slide("title", export.title, subtitle, (), title_notes, "")]
    for room in export.rooms:
        if export.kind == "event":
            slides.append(_room_slide(export, room))
        for section in room.sections:
            if not section.is_empty:
                slides += _section_slides(export, room, section)
    return slides + _idea_slides(export)
