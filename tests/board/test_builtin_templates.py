"""The built-in templates: valid, in the seeds' order, with the seeds' words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from candor.board.templates import (
    BUILTIN_DIR,
    Agreement,
    Template,
    builtin_templates,
    template_to_json,
    validate_template,
)

RELATIONAL_AGREEMENT = Agreement(
    title="Relational agreement",
    intro="We agree",
    items=(
        "Not to share identifiable details of any other participant's story without their explicit consent.",
        "To respect the privacy of information that is shared during sessions, not copy, screenshot or otherwise"
        " record without permission",
        "To find ways to communicate with respect, care and compassion for ourselves and each other, including"
        " listening at least as much as we speak; speaking one at a time without interrupting; supporting all"
        " voices to be heard.",
        "To practice appreciation and gratitude in receiving and sharing our stories.",
    ),
)

INTERVIEW = [
    ("what-did-you-do", "What did you do?"),
    ("who-did-you-aim-to-engage", "Who did you aim to engage and involve?"),
    ("what-did-you-learn", "What did you learn?"),
    ("what-will-you-do-differently", "What will you do differently next time?"),
]


def sections_of(template: Template) -> list[tuple[str, str]]:
    return [(s.id, s.title) for s in template.sections]


@pytest.fixture(scope="module")
def builtins() -> dict[str, Template]:
    return builtin_templates()


def test_every_file_in_the_folder_is_a_builtin_keyed_by_its_file_name(builtins: dict[str, Template]) -> None:
    assert sorted(builtins) == sorted(p.stem for p in BUILTIN_DIR.glob("*.json"))
    assert {"beyond-hero-stories", "failure-story-interview", "story-of-change", "blank"} <= set(builtins)


def test_builtins_are_ordered_by_id_with_blank_last(builtins: dict[str, Template]) -> None:
    assert list(builtins) == ["beyond-hero-stories", "failure-story-interview", "story-of-change", "blank"]


def test_builtins_are_loaded_once(builtins: dict[str, Template]) -> None:
    again = builtin_templates()
    assert again == builtins
    assert all(again[key] is builtins[key] for key in builtins)


@pytest.mark.parametrize("path", sorted(BUILTIN_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_builtin_file_validates(path: Path) -> None:
    template = validate_template(json.loads(path.read_text(encoding="utf-8")))
    assert template.id == path.stem


@pytest.mark.parametrize("key", ["beyond-hero-stories", "failure-story-interview", "story-of-change", "blank"])
def test_builtins_survive_a_json_round_trip(builtins: dict[str, Template], key: str) -> None:
    template = builtins[key]
    assert validate_template(json.loads(json.dumps(template_to_json(template)))) == template


def test_beyond_hero_stories_follows_the_session_in_order(builtins: dict[str, Template]) -> None:
    template = builtins["beyond-hero-stories"]
    assert template.title == "Beyond hero stories"
    assert sections_of(template) == [
        *INTERVIEW,
        ("define-the-problem", "Define the problem"),
        ("reverse-the-problem", "Reverse the problem"),
        ("how-did-it-feel", "How did people feel about the failures they talked about?"),
        ("how-do-we-want-people-to-feel", "How do we want people to feel when sharing examples of failure?"),
        ("practical-ideas", "Practical ideas for moving beyond hero stories"),
        ("what-next", "What next?"),
    ]
    by_id = {s.id: s for s in template.sections}
    assert by_id["define-the-problem"].prompts == ("Why is it difficult to move beyond hero stories?",)
    assert by_id["what-next"].prompts == ("What will you do?",)


def test_beyond_hero_stories_opens_with_the_relational_agreement(builtins: dict[str, Template]) -> None:
    assert builtins["beyond-hero-stories"].agreement == RELATIONAL_AGREEMENT


def test_beyond_hero_stories_groups_the_interview(builtins: dict[str, Template]) -> None:
    groups = [s.group for s in builtins["beyond-hero-stories"].sections[:4]]
    assert groups == ["Failure story interview"] * 4
    assert all(s.group != "Failure story interview" for s in builtins["beyond-hero-stories"].sections[4:])


def test_beyond_hero_stories_keeps_interview_and_feelings_private_until_reveal(
    builtins: dict[str, Template],
) -> None:
    private = [s.id for s in builtins["beyond-hero-stories"].sections if s.private_until_reveal]
    assert private == [*(sid for sid, _ in INTERVIEW), "how-did-it-feel", "how-do-we-want-people-to-feel"]


def test_interview_prompts_are_the_seeds_words(builtins: dict[str, Template]) -> None:
    by_id = {s.id: s for s in builtins["beyond-hero-stories"].sections}
    assert by_id["what-did-you-do"].prompts == (
        "Were there planning or foresight failures?",
        "Were there capacity or resource failures?",
        "External or internal influences on what went wrong?",
    )
    assert "Was everyone able to own up to the failings?" in by_id["what-did-you-learn"].prompts
    assert by_id["what-will-you-do-differently"].prompts[-1] == "Have you repeated any of the failings?"
    assert by_id["who-did-you-aim-to-engage"].prompts[0] == "Were you able to engage the right people?"


def test_failure_story_interview_is_the_four_question_groups_with_the_same_prompts(
    builtins: dict[str, Template],
) -> None:
    pairs = builtins["failure-story-interview"]
    full = builtins["beyond-hero-stories"]
    assert sections_of(pairs) == INTERVIEW
    assert [s.prompts for s in pairs.sections] == [s.prompts for s in full.sections[:4]]
    assert all(s.private_until_reveal for s in pairs.sections)
    assert pairs.agreement == RELATIONAL_AGREEMENT


def test_story_of_change_is_a_narrative_then_reflection_then_credits(builtins: dict[str, Template]) -> None:
    template = builtins["story-of-change"]
    assert sections_of(template) == [
        ("beginning", "Beginning"),
        ("middle", "Middle"),
        ("end", "End"),
        ("what-went-well", "What went well?"),
        ("what-could-have-gone-better", "What could have gone better?"),
        ("who-should-be-credited", "Who should be credited?"),
    ]
    assert [s.group for s in template.sections[:3]] == ["The story"] * 3


def test_story_of_change_credits_ask_for_consent_and_protect_data_subjects(builtins: dict[str, Template]) -> None:
    credits = next(s for s in builtins["story-of-change"].sections if s.id == "who-should-be-credited")
    text = " ".join(credits.prompts).lower()
    assert "consent" in text
    assert "anonymity of your data subjects" in text


def test_blank_has_one_notes_section_and_no_agreement(builtins: dict[str, Template]) -> None:
    blank = builtins["blank"]
    assert sections_of(blank) == [("notes", "Notes")]
    assert blank.agreement is None
    assert (blank.votes_per_person, blank.note_max_chars) == (5, 500)
