"""Markdown export shaped like the seed output: the session's frame, then a part per theme, clusters as sub-headings.

Everything people or templates wrote is text, never markup: each ASCII
punctuation character CommonMark could read as syntax is backslash-escaped,
so a note ``<img src=x onerror=…>`` stays those characters in any renderer.
"""

from __future__ import annotations

import re

from candor.export.model import WITHDRAWN_TEXT, Export, ExportNote, ExportSection, Frame
from candor.export.wording import (
    EMPTY_PART,
    NO_NOTES,
    OTHER_NOTES,
    THANKS,
    WHAT_NEXT,
    counts_text,
    export_line,
    note_suffix,
    votes_text,
)

# CommonMark lets a backslash escape any ASCII punctuation. These can open or close markup anywhere in a line
# (emphasis, code, links and images, HTML and autolinks, entities, tables, strike-through, headings) ...
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&])")
# ... and these only at the start of a line (lists, ordered lists, setext underlines and rules).
_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")


def inline(text: str) -> str:
    """User text on one line, every character that could be Markdown syntax escaped."""
    escaped = _SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return _LINE_START.sub(lambda m: "\\" + m.group(1) if not m.group(1).isdigit() else m.group(1) + "\\", escaped)


def block(text: str) -> str:
    """User text that may span lines, kept as hard line breaks inside a list item."""
    lines = [inline(line) for line in text.split("\n") if line.strip()]
    return "\\\n  ".join(lines) if lines else inline(text)


def _heading(level: int, text: str, votes: float = 0) -> str:
    suffix = f" ({votes_text(votes)})" if votes else ""
    return f"{'#' * min(level, 6)} {inline(text)}{suffix}"


def _bullet(note: ExportNote) -> str:
    if note.purged:
        return f"- *{WITHDRAWN_TEXT}*"  # our words, not the note's: its text was purged
    suffix = note_suffix(note)
    return f"- {block(note.text)}" + (f" *({inline(suffix)})*" if suffix else "")


def _notes(out: list[str], section: ExportSection, level: int) -> None:
    if section.shown == "counts":
        out += [inline(counts_text(section.count)), ""]
        return
    for cluster in section.clusters:
        out += [_heading(level + 1, cluster.label, cluster.votes), ""]
        out += [_bullet(note) for note in cluster.notes] + [""]
    if section.notes:  # after the clusters, under a heading of their own when there are clusters
        out += [_heading(level + 1, OTHER_NOTES), ""] if section.clusters else []
        out += [_bullet(note) for note in section.notes] + [""]


def _section(out: list[str], section: ExportSection, level: int) -> None:
    out += [_heading(level, section.title), ""]
    if section.description:
        out += [inline(section.description), ""]
    for prompt in section.prompts:
        out += [f"*{inline(prompt)}*", ""]
    _notes(out, section, level)


def _sections(out: list[str], sections: tuple[ExportSection, ...], skip_empty: bool) -> None:
    group: str | None = None
    shown = [s for s in sections if not (skip_empty and s.is_empty)]
    if not shown:
        out += [f"*{inline(NO_NOTES)}*", ""]
    for section in shown:
        if section.group != group and section.group:
            out += [_heading(2, section.group), ""]
        group = section.group
        _section(out, section, 3 if group else 2)


def _frame(out: list[str], export: Export, frame: Frame) -> None:
    if frame.facilitators or frame.participants or frame.participants_about:
        out += [_heading(2, "Who we are"), ""]
        if frame.facilitators:
            out += [_heading(3, "Facilitators"), ""]
            out += [f"- **{inline(p.name)}**" + (f": {inline(p.about)}" if p.about else "") for p in frame.facilitators]
            out.append("")
        if frame.participants or frame.participants_about:
            count = f"{frame.participants} " if frame.participants else ""
            who = frame.participants_about or "participants"
            out += [_heading(3, "Participants"), "", inline(f"This output was generated through discussion with "
                                                            f"{count}{who}."), ""]  # fmt: skip
    if frame.what_we_did:
        out += [_heading(2, "What we did"), ""]
        if frame.what_we_did_intro:
            out += [inline(frame.what_we_did_intro), ""]
        out += [f"- **{inline(s.name)}**" + (f": {inline(s.about)}" if s.about else "") for s in frame.what_we_did]
        out.append("")
    if frame.agreement:
        out += [_heading(2, frame.agreement_title or "Relational agreement"), ""]
        if frame.agreement_intro:
            out += [inline(frame.agreement_intro), ""]
        out += [f"- {inline(item)}" for item in frame.agreement] + [""]
    for framework in frame.frameworks:
        out += [_heading(2, framework.title), ""]
        if framework.description:
            out += [inline(framework.description), ""]
        for part in framework.parts:
            out += [_heading(3, part.title), ""]
            if part.prompts:
                out += [f"- {inline(prompt)}" for prompt in part.prompts] + [""]


def _stories(out: list[str], export: Export) -> None:
    if export.stories is None or not export.stories.stories:
        return
    out += [_heading(2, export.stories.title), ""]
    for story in export.stories.stories:
        out += [_heading(3, story.title), ""]
        for part in story.parts:
            out += [_heading(4, part.title), ""]
            if not part.notes:
                out += [f"*{inline(EMPTY_PART)}*", ""]
            for note in part.notes:
                suffix = note_suffix(note)
                out += [block(note.text) + (f" *({inline(suffix)})*" if suffix else ""), ""]


def _closing(out: list[str], export: Export, closing: list[ExportSection]) -> None:
    steps = export.frame.next_steps if export.frame else ()
    if not steps and not closing:
        if export.kind == "event":
            out += [_heading(2, WHAT_NEXT), "", inline(THANKS), ""]
        return
    out += [_heading(2, closing[0].title if closing else WHAT_NEXT), ""]
    for prompt in closing[0].prompts if closing else ():
        out += [f"*{inline(prompt)}*", ""]
    if steps:
        out += [f"- {inline(step)}" for step in steps] + [""]
    for section in closing:
        _notes(out, section, 2)


def render_markdown(export: Export) -> str:
    out = [_heading(1, export.title), ""]
    frame = export.frame
    if frame is not None and frame.question:
        out += [f"**{inline(frame.question)}**", ""]
    if export.kind == "event":
        out += [inline(", ".join(p for p in ((frame.where if frame else None), export.date) if p)), ""]
    out += [f"*{inline(export_line(export))}*", ""]
    if frame is not None:
        _frame(out, export, frame)
    closing = [s for s in export.sections if s.closing and not s.is_empty]
    body = tuple(s for s in export.sections if s not in closing)
    _sections(out, body, skip_empty=export.kind == "event")
    _stories(out, export)
    _closing(out, export, closing)
    return "\n".join(out).rstrip() + "\n"
