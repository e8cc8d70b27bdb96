"""validate_template: every problem reported once, at its JSON pointer, in plain words."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from candor.board.templates import (
    ID_SCHEMA_PATTERN,
    TEMPLATE_SCHEMA,
    Agreement,
    Section,
    Template,
    template_to_json,
    validate_template,
)
from candor.errors import InvalidTemplate
from candor.schemas import schema_path

MINIMAL: dict[str, Any] = {"id": "retro", "title": "Retro", "sections": [{"id": "notes", "title": "Notes"}]}


def problems_of(data: object) -> dict[str, str]:
    with pytest.raises(InvalidTemplate) as caught:
        validate_template(data)
    problems = caught.value.problems
    paths = [p["path"] for p in problems]
    assert len(paths) == len(set(paths)), f"more than one problem at a path: {problems}"
    assert caught.value.message == f"invalid template: {len(problems)} problem{'' if len(problems) == 1 else 's'}"
    return {p["path"]: p["message"] for p in problems}


def with_changes(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    data.update(changes)
    return data


def test_the_schema_is_a_valid_draft_2020_12_schema_with_a_description_on_every_property() -> None:
    schema = json.loads(schema_path(TEMPLATE_SCHEMA).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "candor/template.schema.json"

    def walk(node: dict[str, Any]) -> None:
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
        for name, child in node.get("properties", {}).items():
            assert child.get("description"), name
            walk(child)
        if isinstance(node.get("items"), dict):
            walk(node["items"])

    walk(schema)
    walk(schema["$defs"]["section"])
    assert schema["properties"]["id"]["pattern"] == ID_SCHEMA_PATTERN
    assert schema["$defs"]["section"]["properties"]["id"]["pattern"] == ID_SCHEMA_PATTERN


def test_a_minimal_template_gets_the_defaults() -> None:
    assert validate_template(MINIMAL) == Template(
        id="retro", title="Retro", sections=(Section(id="notes", title="Notes"),)
    )
    section = validate_template(MINIMAL).sections[0]
    assert (section.prompts, section.group, section.description, section.private_until_reveal) == (
        (),
        None,
        None,
        False,
    )


def test_a_full_template_round_trips() -> None:
    template = Template(
        id="full-0",
        title="Full",
        description="",
        agreement=Agreement(title="Rules", items=("Be kind.",), intro="We agree"),
        sections=(
            Section(id="a", title="A", prompts=("Why?", "How?"), group="G", description="d", private_until_reveal=True),
            Section(id="b", title="B"),
        ),
        votes_per_person=0,
        note_max_chars=5000,
    )
    assert validate_template(template_to_json(template)) == template


def test_whole_number_floats_are_integers() -> None:
    template = validate_template(with_changes(votes_per_person=3.0))
    assert template.votes_per_person == 3
    assert type(template.votes_per_person) is int


def test_a_broken_template_yields_one_problem_per_fault() -> None:
    data = {
        "id": "board",
        "description": 42,
        "sections": [
            {"id": "Title", "title": "Fine"},
            {"id": "same", "title": "One"},
            {"id": "same", "title": "Two", "private_until_reveal": "yes"},
            {"id": "other", "title": "Three", "prompts": ["ok", ""]},
        ],
        "votes_per_person": 100,
        "colour": "red",
    }
    problems = problems_of(data)
    assert set(problems) == {
        "/title",
        "/description",
        "/sections/0/id",
        "/sections/2/id",
        "/sections/2/private_until_reveal",
        "/sections/3/prompts/1",
        "/votes_per_person",
        "/colour",
    }
    assert problems["/title"] == "title is required"
    assert problems["/description"] == "description must be a string, not a whole number"
    assert problems["/sections/0/id"].startswith("section id must be 1-64 lowercase letters, digits and '-'")
    assert "'Title'" in problems["/sections/0/id"]
    assert problems["/sections/2/id"] == "section id 'same' is already used by the section at /sections/1"
    assert problems["/sections/2/private_until_reveal"] == "private_until_reveal must be true or false, not a string"
    assert problems["/sections/3/prompts/1"] == "prompt must not be empty"
    assert problems["/votes_per_person"] == "votes_per_person must be at most 99 (got 100)"
    assert problems["/colour"].startswith("unknown property 'colour' in template")


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ([], "", "template must be a JSON object, not a list"),
        ("beyond-hero-stories", "", "template must be a JSON object, not a string"),
        (None, "", "template must be a JSON object, not null"),
        (7, "", "template must be a JSON object, not a whole number"),
    ],
)
def test_non_object_input_is_one_clear_problem(data: object, path: str, message: str) -> None:
    assert problems_of(data) == {path: message}


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"id": "a" * 65}, "/id", "template id must be 1-64 lowercase"),
        ({"id": "-lead"}, "/id", "template id must be 1-64 lowercase"),
        ({"id": "trailing\n"}, "/id", "template id must be 1-64 lowercase"),
        ({"title": "   "}, "/title", "title must not be blank"),
        ({"title": "x" * 201}, "/title", "title must be at most 200 characters (got 201)"),
        ({"description": "x" * 2001}, "/description", "description must be at most 2000 characters"),
        ({"sections": []}, "/sections", "sections must have at least 1 item"),
        (
            {"sections": [{"id": f"s{i}", "title": "S"} for i in range(31)]},
            "/sections",
            "sections must have at most 30",
        ),
        ({"sections": [{"id": "s", "title": "S", "prompts": ["p"] * 21}]}, "/sections/0/prompts", "at most 20"),
        ({"sections": [{"id": "s", "title": "S", "prompts": ["p" * 501]}]}, "/sections/0/prompts/0", "at most 500"),
        ({"sections": [{"id": "s", "title": "S", "extra": 1}]}, "/sections/0/extra", "unknown property 'extra'"),
        ({"sections": [{"id": "s"}]}, "/sections/0/title", "section title is required"),
        ({"sections": [{"id": "s\n", "title": "S"}]}, "/sections/0/id", "section id must be 1-64 lowercase"),
        ({"votes_per_person": -1}, "/votes_per_person", "votes_per_person must be at least 0 (got -1)"),
        ({"votes_per_person": True}, "/votes_per_person", "must be a whole number, not true or false"),
        ({"note_max_chars": 0}, "/note_max_chars", "note_max_chars must be at least 1 (got 0)"),
        ({"note_max_chars": 2.5}, "/note_max_chars", "must be a whole number, not a number"),
        ({"agreement": {"title": "Rules"}}, "/agreement/items", "agreement items is required"),
        ({"agreement": {"title": "Rules", "items": []}}, "/agreement/items", "at least 1 item"),
        ({"agreement": {"title": "R", "items": ["i"] * 21}}, "/agreement/items", "at most 20 items (got 21)"),
        ({"agreement": {"title": "R", "items": [""]}}, "/agreement/items/0", "agreement item must not be empty"),
        ({"agreement": "We agree"}, "/agreement", "agreement must be a JSON object, not a string"),
    ],
)
def test_each_fault_is_reported_at_its_path(changes: dict[str, Any], path: str, message: str) -> None:
    problems = problems_of(with_changes(**changes))
    assert list(problems) == [path]
    assert message in problems[path]


def test_each_duplicate_section_id_is_a_problem() -> None:
    sections = [{"id": "a", "title": "A"}] * 3
    problems = problems_of(with_changes(sections=sections))
    assert problems == {
        "/sections/1/id": "section id 'a' is already used by the section at /sections/0",
        "/sections/2/id": "section id 'a' is already used by the section at /sections/0",
    }


def test_paths_escape_json_pointer_characters() -> None:
    problems = problems_of(with_changes(**{"a/b": 1, "c~d": 2}))
    assert set(problems) == {"/a~1b", "/c~0d"}
