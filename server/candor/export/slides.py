"""A deck plan both slide renderers (HTML, pptx) draw: which slides, their lines, where they sit, their speaker notes.

Every slide's text is measured (layout.py) before it is placed: a part that
does not fit continues on the next slide under the same title, "(continued)";
text never shrinks below 18 pt. Titles name themes, never rooms or log
positions; footers say the event and the day in words.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

from candor.export import layout
from candor.export.model import ExportNote, ExportSection
from candor.export.wording import (
    CONTINUED,
    OTHER_NOTES,
    counts_text,
    note_suffix,
    speaker_note,
    votes_text,
)

# Note colours as the board shows them, as a stripe or bullet beside each note.
COLOURS: Final = {
    "yellow": "#f5c400",
    "pink": "#e86aa6",
    "blue": "#4a90d9",
    "green": "#4caf50",
    "orange": "#f08a24",
    "purple": "#8e6ac8",
}
SlideKind = Literal["title", "frame", "section", "story", "closing"]
LineKind = Literal["heading", "note", "text", "item", "lead", "meta"]
SIZES: Final[dict[str, int]] = {"heading": 22, "note": 20, "text": 20, "item": 20, "lead": 26, "meta": 18}
BULLETED: Final = frozenset({"note", "item"})
TITLE_PT: Final = 32
TITLE_SMALL_PT: Final = 26
TITLE_SLIDE_PT: Final = 40
SUBTITLE_PT: Final = 18
FOOTER_PT: Final = 12
TITLE_TOP: Final = 21.6
TITLE_SLIDE_TOP: Final = 108.0
FOOTER_TOP: Final = layout.SLIDE_H - 39.6
BODY_BOTTOM: Final = FOOTER_TOP - 6
SUBTITLE_MAX_LINES: Final = 3
FOOTER_W: Final = layout.TEXT_W - 96  # the page number takes the right of the footer


@dataclass(frozen=True, slots=True)
class Line:
    """One paragraph of a slide's body."""

    kind: LineKind
    text: str
    detail: str = ""  # votes and a signed name, after a note's text
    note: ExportNote | None = None
    rooms: str = ""  # room provenance, for the HTML tag and speaker notes

    @property
    def size(self) -> int:
        return SIZES[self.kind]

    @property
    def bold(self) -> bool:
        return self.kind == "heading"

    @property
    def shown(self) -> str:
        return f"{self.text}  ({self.detail})" if self.detail else self.text


@dataclass(frozen=True, slots=True)
class Slide:
    kind: SlideKind
    title: str
    title_pt: int
    subtitle: str
    lines: tuple[Line, ...]
    notes: str  # speaker notes
    footer: str
    title_top: float = 0.0  # where the title box starts, points from the top
    title_h: float = 0.0  # the title box's height, points
    subtitle_h: float = 0.0
    body_top: float = 0.0


def _width(line: Line) -> float:
    return layout.TEXT_W - (layout.BULLET_INDENT if line.kind in BULLETED else 0)


def space_before(line: Line, first: bool) -> float:
    if first:
        return 0.0
    return 12.0 if line.kind == "heading" else 5.0


def line_height(line: Line, first: bool) -> float:
    lines = len(layout.wrap(line.shown, _width(line), line.size, line.bold))
    return space_before(line, first) + layout.height(lines, line.size)


def _title(text: str, big: int) -> tuple[str, int, int]:
    """The title as shown, its size and its line count: two lines at ``big``, else three smaller, else cut."""
    for size, most in ((big, 2), (TITLE_SMALL_PT, 3)):
        count = len(layout.wrap(text, layout.TEXT_W, size, bold=True))
        if count <= most:
            return text, size, count
    return layout.fit(text, layout.TEXT_W, TITLE_SMALL_PT, 3, bold=True), TITLE_SMALL_PT, 3


def _frame(slide: Slide) -> Slide:
    """The slide with its title and subtitle fitted and its boxes measured."""
    big = TITLE_SLIDE_PT if slide.kind == "title" else TITLE_PT
    title, size, count = _title(slide.title, big)
    title_h = layout.height(count, size) + 2 * layout.INSET_Y
    subtitle = layout.fit(slide.subtitle, layout.TEXT_W, SUBTITLE_PT, SUBTITLE_MAX_LINES) if slide.subtitle else ""
    lines = len(layout.wrap(subtitle, layout.TEXT_W, SUBTITLE_PT)) if subtitle else 0
    subtitle_h = layout.height(lines, SUBTITLE_PT) + 2 * layout.INSET_Y if subtitle else 0.0
    title_top = TITLE_SLIDE_TOP if slide.kind == "title" else TITLE_TOP
    top = title_top + title_h + (4 + subtitle_h if subtitle else 0) + 8
    footer = layout.fit(slide.footer, FOOTER_W, FOOTER_PT, 1)
    return replace(slide, title=title, title_pt=size, subtitle=subtitle, title_top=title_top, title_h=title_h,
                   subtitle_h=subtitle_h, body_top=top, footer=footer)  # fmt: skip


def body_budget(slide: Slide) -> float:
    return BODY_BOTTOM - slide.body_top - 2 * layout.INSET_Y


Group = tuple[Line | None, list[Line]]


def _split(line: Line, budget: float) -> list[Line]:
    """A line too tall for a whole slide, as pieces that each fit; the detail goes with the last."""
    wrapped = layout.wrap(line.text, _width(line), line.size, line.bold)
    per = max(1, int(budget // layout.height(1, line.size)) - 1)
    chunks = [" ".join(wrapped[n : n + per]) for n in range(0, len(wrapped), per)]
    pieces = []
    for n, chunk in enumerate(chunks):
        text = ("\u2026 " if n else "") + chunk + ("" if n == len(chunks) - 1 else " \u2026")
        pieces.append(replace(line, text=text, detail=line.detail if n == len(chunks) - 1 else ""))
    return pieces


def paginate(groups: list[Group], budget: float) -> list[list[Line]]:
    """Lines split into slides of at most ``budget`` points; a heading repeats where its group continues, and a
    group that fits on one slide starts a new one rather than being split."""
    pages: list[list[Line]] = []
    page: list[Line] = []
    used = 0.0
    for heading, lines in groups:
        pending = heading
        queue = list(lines)
        whole = sum(line_height(x, n == 0) for n, x in enumerate([*([heading] if heading else []), *lines]))
        if heading is not None and page and used + whole > budget and whole <= budget:
            pages.append(page)  # a group that fits on a slide of its own is not split
            page, used = [], 0.0
        while queue:
            line = queue.pop(0)
            head = [pending] if pending is not None else []
            cost = sum(line_height(x, not page and n == 0) for n, x in enumerate([*head, line]))
            if page and used + cost > budget:
                pages.append(page)
                page, used, pending = [], 0.0, heading
                queue.insert(0, line)
                continue
            if not page and cost > budget:  # alone on a slide and still too tall
                queue[:0] = _split(line, budget - (line_height(head[0], True) if head else 0))
                continue
            page += [*head, line]
            used += cost
            pending = None
    if page:
        pages.append(page)
    return pages


def _pages(base: Slide, groups: list[Group]) -> list[Slide]:
    first = _frame(base)
    later = _frame(replace(base, title=f"{base.title} {CONTINUED}"))
    pages = paginate(groups, min(body_budget(first), body_budget(later))) or [[]]
    return [
        replace(first if n == 0 else later, lines=tuple(lines), notes=speaker_note(base.notes, lines))
        for n, lines in enumerate(pages)
    ]


def note_line(note: ExportNote, event: bool, kind: LineKind = "note") -> Line:
    return Line(kind, note.text, note_suffix(note), note, " \u00b7 ".join(note.rooms) if event else "")


def section_groups(section: ExportSection, event: bool) -> list[Group]:
    if section.shown == "counts":
        return [(None, [Line("text", counts_text(section.count))])]
    groups: list[Group] = []
    for cluster in section.clusters:
        groups.append(
            (Line("heading", cluster.label, votes_text(cluster.votes)), [note_line(n, event) for n in cluster.notes])
        )
    if section.notes:  # after the clusters, under a heading of their own when there are clusters
        other = Line("heading", OTHER_NOTES) if section.clusters else None
        groups.append((other, [note_line(n, event) for n in section.notes]))
    return groups


def pages(base: Slide, groups: list[Group]) -> list[Slide]:
    """``base`` (with its title, subtitle, notes and footer) continued over as many slides as ``groups`` need."""
    return _pages(base, groups)


def framed(slide: Slide) -> Slide:
    """A one-page slide, measured."""
    return slide if slide.title_h else _frame(slide)
