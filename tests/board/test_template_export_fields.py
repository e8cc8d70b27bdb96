"""What a template tells the event export: its question, what we did, frameworks, per-section privacy, the
closing section and the narrative; references to sections are checked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from candor.board.templates import (
    Framework,
    Narrative,
    Section,
    Step,
    Template,
    WhatWeDid,
    builtin_templates,
    template_to_json,
    validate_template,
)
from candor.errors import InvalidTemplate


def template(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "retro",
        "title": "Retro",
        "sections": [{"id": "stories", "title": "Stories"}, {"id": "ideas", "title": "Ideas"}],
    }
    data.update(changes)
    return data


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidTemplate) as caught:
        validate_template(data)
    return {p["path"]: p["message"] for p in caught.value.problems}


def test_every_export_field_round_trips() -> None:
    full = Template(
        id="full",
        title="Full",
        question="How do we learn from failure?",
        what_we_did=WhatWeDid((Step("Set ground rules", "To make a safe space."), Step("Shared ideas")), "Intro."),
        frameworks=(Framework("Interview", ("stories",), "We interviewed each other."),),
        narrative=Narrative("Stories of change", ("stories", "ideas")),
        sections=(
            Section("stories", "Stories", outside_room="nothing"),
            Section("ideas", "Ideas", outside_room="counts", closing=True),
        ),
    )
    assert validate_template(json.loads(json.dumps(template_to_json(full)))) == full


def test_sections_leave_their_room_as_notes_unless_the_template_says_otherwise() -> None:
    sections = validate_template(template()).sections
    assert [(s.outside_room, s.closing) for s in sections] == [("notes", False), ("notes", False)]


def test_the_seed_session_keeps_the_interview_in_its_rooms_and_closes_on_what_next() -> None:
    seed = builtin_templates()["beyond-hero-stories"]
    assert {s.id for s in seed.sections if s.outside_room == "nothing"} == {
        "what-did-you-do",
        "who-did-you-aim-to-engage",
        "what-did-you-learn",
        "what-will-you-do-differently",
    }
    assert [s.id for s in seed.sections if s.closing] == ["what-next"]
    assert seed.frameworks[0].sections == tuple(s.id for s in seed.sections[:4])
    interview = builtin_templates()["failure-story-interview"]
    assert {s.outside_room for s in interview.sections} == {"counts"}
    story = builtin_templates()["story-of-change"]
    assert story.narrative is not None and story.narrative.sections[:3] == ("beginning", "middle", "end")
    assert "what-could-have-gone-better" in story.narrative.sections


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"frameworks": [{"title": "F", "sections": ["stories", "gone"]}]}, "/frameworks/0/sections/1", "'gone'"),
        ({"narrative": {"title": "N", "sections": ["nowhere"]}}, "/narrative/sections/0", "'nowhere'"),
        ({"what_we_did": {"steps": []}}, "/what_we_did/steps", "at least 1"),
        ({"question": "  "}, "/question", "blank"),
    ],
)
def test_export_fields_are_checked(changes: dict[str, Any], path: str, words: str) -> None:
    found = problems(template(**changes))
    assert words in found[path], found


def test_only_one_section_closes_the_export() -> None:
    data = template(sections=[{"id": "a", "title": "A", "closing": True}, {"id": "b", "title": "B", "closing": True}])
    assert problems(data) == {"/sections/1/closing": "only one section can close the export"}


@given(st.text(max_size=20))
def test_outside_room_takes_only_its_three_values(value: str) -> None:
    data = template(sections=[{"id": "a", "title": "A", "outside_room": value}])
    if value in ("notes", "counts", "nothing"):
        assert validate_template(data).sections[0].outside_room == value
    else:
        assert "/sections/0/outside_room" in problems(data)
