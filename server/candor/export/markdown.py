"""Markdown export shaped like the seed output: title, sections with their prompts, clusters as sub-headings."""

from __future__ import annotations

import re

from candor.export.model import Export, ExportNote, ExportRoom, ExportSection
from candor.export.wording import NO_NOTES, OTHER_IDEAS, export_line, note_suffix, room_moment, votes_text

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&])")
_LIST_START = re.compile(r"^(\s*)([-+]|\d+[.)])(\s)")


def inline(text: str) -> str:
    """User text on one line, with Markdown's special characters escaped."""
    escaped = _SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return _LIST_START.sub(r"\1\\\2\3", escaped)


def _block(text: str) -> str:
    """User text that may span lines, kept as hard line breaks inside a list item."""
    lines = [inline(line) for line in text.split("\n") if line.strip()]
    return "  \n  ".join(lines) if lines else inline(text)


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _heading(level: int, text: str, votes: float = 0) -> str:
    suffix = f" ({votes_text(votes)})" if votes else ""
    return f"{'#' * min(level, 6)} {inline(text)}{suffix}"


def _bullet(note: ExportNote, room_label: str | None = None) -> str:
    if note.purged:
        return f"- *{note.text}*"
    suffix = note_suffix(note)
    if room_label:
        suffix = f"{suffix} · {room_label}" if suffix else room_label
    return f"- {_block(note.text)}" + (f" *({inline(suffix)})*" if suffix else "")


def _section(out: list[str], section: ExportSection, level: int) -> None:
    out += [_heading(level, section.title), ""]
    if section.description:
        out += [inline(section.description), ""]
    for prompt in section.prompts:
        out += [f"*{inline(prompt)}*", ""]
    if section.notes:
        out += [_bullet(note) for note in section.notes] + [""]
    for cluster in section.clusters:
        out += [_heading(level + 1, cluster.label, cluster.votes), ""]
        out += [_bullet(note) for note in cluster.notes] + [""]


def _room(out: list[str], room: ExportRoom, level: int, skip_empty: bool) -> None:
    group: str | None = None
    shown = [s for s in room.sections if not (skip_empty and s.is_empty)]
    if not shown:
        out += [f"*{NO_NOTES}*", ""]
    for section in shown:
        if section.group != group and section.group:
            out += [_heading(level, section.group), ""]
        group = section.group
        _section(out, section, level + 1 if group else level)


def render_markdown(export: Export) -> str:
    out = [_heading(1, export.title), ""]
    if export.description:
        out += [inline(export.description), ""]
    out += [f"*{inline(export_line(export))}*", ""]
    if export.kind == "room":
        for room in export.rooms:
            _room(out, room, 2, skip_empty=False)
    else:
        for room in export.rooms:
            out += [_heading(2, room.label), "", f"*{inline(_first_upper(room_moment(room)))}.*", ""]
            _room(out, room, 3, skip_empty=True)
    if export.ideas:
        out += [_heading(2, "Practical ideas across rooms"), ""]
        for group in export.ideas:
            out += [_heading(3, group.label or OTHER_IDEAS, group.votes), ""]
            out += [_bullet(item.note, item.room_label) for item in group.items] + [""]
    return "\n".join(out).rstrip() + "\n"
