"""The deck, slide by slide, shaped like the seed: title, who we are, what we did, the agreement, the frameworks,
a part per theme, the stories, and a closing "What next?"."""

from __future__ import annotations

from candor.export.model import Export, ExportSection, Frame
from candor.export.slides import (
    TITLE_PT,
    TITLE_SLIDE_PT,
    Group,
    Line,
    Slide,
    framed,
    note_line,
    pages,
    section_groups,
)
from candor.export.wording import EMPTY_PART, THANKS, WHAT_NEXT, export_line, provenance

WHO_WE_ARE = "Who we are"
WHAT_WE_DID = "What we did"
AGREEMENT = "Relational agreement"


def title_slide(export: Export) -> Slide:
    frame = export.frame
    lines = []
    if frame is not None and frame.question:
        lines.append(Line("lead", frame.question))
    where = ", ".join(part for part in ((frame.where if frame else None), export.date) if part)
    lines.append(Line("text", where))
    lines.append(Line("meta", export_line(export)))
    slide = Slide("title", export.title, TITLE_SLIDE_PT, "", (), "\n".join(provenance(export)), "")
    return pages(slide, [(None, lines)])[0]


def _base(export: Export, title: str, subtitle: str, footer: str, kind: str = "frame") -> Slide:
    return Slide(kind, title, TITLE_PT, subtitle, (), "\n".join(provenance(export)), footer)  # type: ignore[arg-type]


def _who(frame: Frame) -> list[Group]:
    groups: list[Group] = []
    if frame.facilitators:
        people = []
        for person in frame.facilitators:
            people.append(Line("heading", person.name))
            if person.about:
                people.append(Line("text", person.about))
        groups.append((None, people))
    if frame.participants or frame.participants_about:
        count = f"{frame.participants} " if frame.participants else ""
        who = frame.participants_about or "participants"
        groups.append((None, [Line("text", f"This output was generated through discussion with {count}{who}.")]))
    return groups


def frame_slides(export: Export, footer: str) -> list[Slide]:
    """Who we are, what we did, the agreement and each framework: only what the template and details hold."""
    frame = export.frame
    if frame is None:
        return []
    slides = []
    who = _who(frame)
    if who:
        slides += pages(_base(export, WHO_WE_ARE, "", footer), who)
    if frame.what_we_did:
        steps: list[Line] = []
        for step in frame.what_we_did:
            steps.append(Line("heading", step.name))
            if step.about:
                steps.append(Line("text", step.about))
        slides += pages(_base(export, WHAT_WE_DID, frame.what_we_did_intro or "", footer), [(None, steps)])
    if frame.agreement:
        intro = [Line("text", frame.agreement_intro)] if frame.agreement_intro else []
        items = [Line("item", item) for item in frame.agreement]
        subtitle = "The agreement everyone accepted before joining, so that people could feel safe sharing."
        slides += pages(_base(export, frame.agreement_title or AGREEMENT, subtitle, footer), [(None, intro + items)])
    for framework in frame.frameworks:
        groups: list[Group] = [
            (Line("heading", part.title), [Line("item", p) for p in part.prompts])
            if part.prompts
            else (None, [Line("heading", part.title)])
            for part in framework.parts
        ]
        slides += pages(_base(export, framework.title, framework.description or "", footer), groups)
    return slides


def section_slides(export: Export, section: ExportSection, footer: str) -> list[Slide]:
    subtitle = " ".join(section.prompts) or (section.description or "")
    base = Slide("section", section.title, TITLE_PT, subtitle, (), "\n".join(provenance(export)), footer)
    return pages(base, section_groups(section, export.kind == "event"))


def story_slides(export: Export, footer: str) -> list[Slide]:
    if export.stories is None:
        return []
    slides = []
    for story in export.stories.stories:
        groups: list[Group] = [
            (
                Line("heading", part.title),
                [note_line(n, True, "text") for n in part.notes] or [Line("meta", EMPTY_PART)],
            )
            for part in story.parts
        ]
        slides += pages(_base(export, story.title, export.stories.title, footer, "story"), groups)
    return slides


def closing_slides(export: Export, closing: list[ExportSection], footer: str) -> list[Slide]:
    """What next: the facilitator's next steps, then the closing section's notes (event decks always end so)."""
    frame = export.frame
    steps = [Line("item", step) for step in frame.next_steps] if frame else []
    groups: list[Group] = [(None, steps)] if steps else []
    title = closing[0].title if closing else WHAT_NEXT
    subtitle = " ".join(closing[0].prompts) if closing else ""
    for section in closing:
        groups += section_groups(section, export.kind == "event")
    if not groups:
        if export.kind == "room":
            return []
        groups = [
            (None, [Line("lead", frame.question)] if frame and frame.question else []),
            (None, [Line("text", THANKS)]),
        ]
    return pages(_base(export, title, subtitle, footer, "closing"), groups)


def plan_slides(export: Export) -> list[Slide]:
    """The deck: the title, the session's frame, a part per theme, the stories, and what next."""
    footer = f"{export.title} \u00b7 {export.date}"
    slides = [title_slide(export), *frame_slides(export, footer)]
    for section in export.sections:
        if not section.closing and not section.is_empty:
            slides += section_slides(export, section, footer)
    slides += story_slides(export, footer)
    slides += closing_slides(export, [s for s in export.sections if s.closing and not s.is_empty], footer)
    return [framed(slide) for slide in slides]
