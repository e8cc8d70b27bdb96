"""The session's frame, from the event's template and its facilitator's details: question, who, what we did, rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from candor.export.model import Frame, Framework, FrameworkPart, Person, clean_text
from candor.export.moments import day_in_words, day_of
from candor.workshops.details import EventDetails


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return clean_text(value) or None


def event_day(details: EventDetails, created_ms: int) -> str:
    """The day the event took place in words: the facilitator's date, else the day it was created."""
    if details.date:
        try:
            return day_in_words(date.fromisoformat(details.date))
        except ValueError:
            pass  # checked when set; an older row may hold anything
    return day_of(created_ms)


def build_frame(template: Mapping[str, Any], details: EventDetails, created_ms: int) -> Frame:
    """The frame of an event; the template is the JSON frozen at its creation, read defensively."""
    sections = {s.get("id"): s for s in _list(template.get("sections")) if isinstance(s, Mapping)}
    frameworks = []
    for framework in _list(template.get("frameworks")):
        f = _map(framework)
        parts = []
        for section_id in _list(f.get("sections")):
            section = _map(sections.get(section_id))
            if section:
                prompts = tuple(clean_text(p) for p in _list(section.get("prompts")) if clean_text(p))
                parts.append(FrameworkPart(clean_text(section.get("title")) or str(section_id), prompts))
        title = _text(f.get("title"))
        if title and parts:
            frameworks.append(Framework(title, _text(f.get("description")), tuple(parts)))
    did = _map(template.get("what_we_did"))
    steps = [_map(s) for s in _list(did.get("steps"))]
    agreement = _map(template.get("agreement"))
    return Frame(
        question=_text(details.question) or _text(template.get("question")),
        date=event_day(details, created_ms),
        where=_text(details.where),
        facilitators=tuple(
            Person(clean_text(f.name), _text(f.about)) for f in details.facilitators if clean_text(f.name)
        ),
        participants=details.participants,
        participants_about=_text(details.participants_about),
        what_we_did_intro=_text(did.get("intro")),
        what_we_did=tuple(Person(t, _text(s.get("text"))) for s in steps if (t := clean_text(s.get("title")))),
        frameworks=tuple(frameworks),
        agreement_title=_text(agreement.get("title")),
        agreement_intro=_text(agreement.get("intro")),
        agreement=tuple(t for item in _list(agreement.get("items")) if (t := clean_text(item))),
        next_steps=tuple(t for step in details.next_steps if (t := clean_text(step))),
    )
