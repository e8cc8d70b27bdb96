"""Board templates: JSON data checked against schemas/template.schema.json, loaded as frozen values."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from candor.errors import InvalidTemplate
from candor.schemas import schema_path

TEMPLATE_SCHEMA = "template.schema.json"
BUILTIN_DIR = Path(__file__).with_name("templates")

# The schema's pattern for template and section ids. jsonschema applies patterns with
# re.search, where "$" also matches before a final newline, so ids are checked again
# with fullmatch below.
ID_SCHEMA_PATTERN = "^[a-z0-9][a-z0-9-]{0,63}$"
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_ID_RULE = "1-64 lowercase letters, digits and '-', starting with a letter or digit"
_NOT_BLANK_PATTERN = r"\S"

_JSON_TYPES = {
    "object": "a JSON object",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Agreement:
    """Ground rules a participant accepts, all at once, before joining the board."""

    title: str
    items: tuple[str, ...]
    intro: str | None = None


# What an export for anyone outside a room shows of a section (see the schema's ``outside_room``).
OUTSIDE_ROOM = ("notes", "counts", "nothing")


@dataclass(frozen=True)
class Section:
    """One area of the board, with the prompts that help participants write notes in it."""

    id: str
    title: str
    prompts: tuple[str, ...] = ()
    group: str | None = None
    description: str | None = None
    private_until_reveal: bool = False
    outside_room: str = "notes"
    closing: bool = False


@dataclass(frozen=True)
class Step:
    """One part of the session, as an export's "What we did" tells it."""

    title: str
    text: str | None = None


@dataclass(frozen=True)
class WhatWeDid:
    steps: tuple[Step, ...]
    intro: str | None = None


@dataclass(frozen=True)
class Framework:
    """A framework the session used: a run of sections whose prompts are its questions."""

    title: str
    sections: tuple[str, ...]
    description: str | None = None


@dataclass(frozen=True)
class Narrative:
    """Stories told through these sections in order (a beginning, middle and end)."""

    title: str
    sections: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    """What a new board starts with: its sections in order, agreement and limits."""

    id: str
    title: str
    sections: tuple[Section, ...]
    description: str | None = None
    agreement: Agreement | None = None
    votes_per_person: int = 5
    note_max_chars: int = 500
    question: str | None = None
    what_we_did: WhatWeDid | None = None
    frameworks: tuple[Framework, ...] = ()
    narrative: Narrative | None = None


def validate_template(data: object) -> Template:
    """The template described by the JSON value ``data``.

    Raises ``InvalidTemplate`` listing every problem found, each with a JSON pointer
    (``""`` is the whole template; a missing property points where it belongs).
    """
    problems = _problems(data)
    if problems:
        count = len(problems)
        raise InvalidTemplate(f"invalid template: {count} problem{'' if count == 1 else 's'}", problems)
    assert isinstance(data, dict)  # the schema requires an object
    return _template_from(data)


def template_to_json(t: Template) -> dict[str, object]:
    """The JSON value for ``t``, the inverse of ``validate_template``; absent options are left out."""
    out: dict[str, object] = {"id": t.id, "title": t.title}
    if t.description is not None:
        out["description"] = t.description
    if t.question is not None:
        out["question"] = t.question
    if t.agreement is not None:
        agreement: dict[str, object] = {"title": t.agreement.title}
        if t.agreement.intro is not None:
            agreement["intro"] = t.agreement.intro
        agreement["items"] = list(t.agreement.items)
        out["agreement"] = agreement
    if t.what_we_did is not None:
        out["what_we_did"] = _what_we_did_to_json(t.what_we_did)
    if t.frameworks:
        out["frameworks"] = [_framework_to_json(f) for f in t.frameworks]
    if t.narrative is not None:
        out["narrative"] = {"title": t.narrative.title, "sections": list(t.narrative.sections)}
    out["sections"] = [_section_to_json(s) for s in t.sections]
    out["votes_per_person"] = t.votes_per_person
    out["note_max_chars"] = t.note_max_chars
    return out


def builtin_templates() -> dict[str, Template]:
    """Every template shipped in board/templates/, keyed by id, ordered by id with "blank" last.

    The files are read and validated once per process; a broken file raises ``InvalidTemplate``.
    """
    return {t.id: t for t in _load_builtins()}


@functools.cache
def _load_builtins() -> tuple[Template, ...]:
    templates = [_load_file(path) for path in BUILTIN_DIR.glob("*.json")]
    return tuple(sorted(templates, key=lambda t: (t.id == "blank", t.id)))


def _load_file(path: Path) -> Template:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        problem = {"path": "", "message": f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"}
        raise InvalidTemplate(f"{path.name}: invalid template: not valid JSON", [problem]) from exc
    try:
        template = validate_template(data)
    except InvalidTemplate as exc:
        raise InvalidTemplate(f"{path.name}: {exc.message}", exc.problems) from exc
    if template.id != path.stem:
        problem = {"path": "/id", "message": f"template id {template.id!r} must match its file name {path.name!r}"}
        raise InvalidTemplate(f"{path.name}: invalid template: 1 problem", [problem])
    return template


@functools.cache
def _validator() -> Any:
    schema = json.loads(schema_path(TEMPLATE_SCHEMA).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _problems(data: object) -> list[dict[str, str]]:
    """One problem per location, the first found: an empty title is "empty", not also "blank"."""
    found: dict[str, str] = {}
    for error in _validator().iter_errors(data):
        for path, message in _describe(error):
            found.setdefault(_pointer(path), message)
    for path, message in _extra_problems(data):
        found.setdefault(_pointer(path), message)
    return [{"path": pointer, "message": message} for pointer, message in found.items()]


def _describe(error: ValidationError) -> Iterator[tuple[JsonPath, str]]:
    """Person-readable problems for one schema error; "required" and "additionalProperties" name each property."""
    path: JsonPath = tuple(error.absolute_path)
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    label = str(schema.get("title", "value"))
    properties: Mapping[str, Any] = schema.get("properties", {})
    if keyword == "required" and isinstance(instance, Mapping):
        for name in expected:
            if name not in instance:
                yield (*path, name), f"{properties.get(name, {}).get('title', name)} is required"
    elif keyword == "additionalProperties" and isinstance(instance, Mapping):
        allowed = ", ".join(properties)
        for name in instance:
            if name not in properties:
                yield (*path, name), f"unknown property {name!r} in {label} (allowed: {allowed})"
    elif keyword == "type":
        yield path, f"{label} must be {_JSON_TYPES.get(str(expected), expected)}, not {_json_type(instance)}"
    elif keyword == "pattern" and expected == ID_SCHEMA_PATTERN:
        yield path, f"{label} must be {_ID_RULE} (got {instance!r})"
    elif keyword == "pattern" and expected == _NOT_BLANK_PATTERN:
        yield path, f"{label} must not be blank"
    elif keyword == "minLength":
        yield path, f"{label} must not be empty" if expected == 1 else f"{label} must be at least {expected} characters"
    elif keyword == "maxLength":
        yield path, f"{label} must be at most {expected} characters (got {len(instance)})"
    elif keyword == "minItems":
        yield path, f"{label} must have at least {expected} item{'' if expected == 1 else 's'}"
    elif keyword == "maxItems":
        yield path, f"{label} must have at most {expected} items (got {len(instance)})"
    elif keyword == "minimum":
        yield path, f"{label} must be at least {expected} (got {instance})"
    elif keyword == "maximum":
        yield path, f"{label} must be at most {expected} (got {instance})"
    else:
        yield path, f"{label}: {error.message}"


def _extra_problems(data: object) -> Iterator[tuple[JsonPath, str]]:
    """What the schema cannot say: ids anchored strictly, section ids unique, references to sections that exist."""
    if not isinstance(data, Mapping):
        return
    template_id = data.get("id")
    if isinstance(template_id, str) and not _ID.fullmatch(template_id):
        yield ("id",), f"template id must be {_ID_RULE} (got {template_id!r})"
    sections = data.get("sections")
    if not isinstance(sections, list):
        return
    first_use: dict[str, int] = {}
    for index, section in enumerate(sections):
        section_id = section.get("id") if isinstance(section, Mapping) else None
        if not isinstance(section_id, str):
            continue
        if not _ID.fullmatch(section_id):
            yield ("sections", index, "id"), f"section id must be {_ID_RULE} (got {section_id!r})"
        elif section_id in first_use:
            first = _pointer(("sections", first_use[section_id]))
            yield ("sections", index, "id"), f"section id {section_id!r} is already used by the section at {first}"
        else:
            first_use[section_id] = index
    yield from _reference_problems(data, set(first_use))
    closing = [i for i, s in enumerate(sections) if isinstance(s, Mapping) and s.get("closing") is True]
    for index in closing[1:]:
        yield ("sections", index, "closing"), "only one section can close the export"


def _reference_problems(data: Mapping[str, Any], known: set[str]) -> Iterator[tuple[JsonPath, str]]:
    """Frameworks and the narrative name sections of this template."""
    frameworks = data.get("frameworks")
    lists: list[tuple[JsonPath, object]] = []
    if isinstance(frameworks, list):
        lists += [
            (("frameworks", n, "sections"), f.get("sections"))
            for n, f in enumerate(frameworks)
            if isinstance(f, Mapping)
        ]
    narrative = data.get("narrative")
    if isinstance(narrative, Mapping):
        lists.append((("narrative", "sections"), narrative.get("sections")))
    for path, ids in lists:
        if not isinstance(ids, list):
            continue
        for index, section_id in enumerate(ids):
            if isinstance(section_id, str) and section_id not in known:
                yield (*path, index), f"no section {section_id!r} in this template"


def _template_from(data: Mapping[str, Any]) -> Template:
    agreement = data.get("agreement")
    return Template(
        id=data["id"],
        title=data["title"],
        sections=tuple(_section_from(s) for s in data["sections"]),
        description=data.get("description"),
        agreement=None
        if agreement is None
        else Agreement(title=agreement["title"], items=tuple(agreement["items"]), intro=agreement.get("intro")),
        # JSON Schema counts 5.0 as an integer; keep the Python value an int.
        votes_per_person=int(data.get("votes_per_person", 5)),
        note_max_chars=int(data.get("note_max_chars", 500)),
        question=data.get("question"),
        what_we_did=_what_we_did_from(data.get("what_we_did")),
        frameworks=tuple(
            Framework(f["title"], tuple(f["sections"]), f.get("description")) for f in data.get("frameworks", ())
        ),
        narrative=None
        if data.get("narrative") is None
        else Narrative(data["narrative"]["title"], tuple(data["narrative"]["sections"])),
    )


def _what_we_did_from(data: Mapping[str, Any] | None) -> WhatWeDid | None:
    if data is None:
        return None
    return WhatWeDid(tuple(Step(s["title"], s.get("text")) for s in data["steps"]), data.get("intro"))


def _what_we_did_to_json(w: WhatWeDid) -> dict[str, object]:
    out: dict[str, object] = {}
    if w.intro is not None:
        out["intro"] = w.intro
    out["steps"] = [{"title": s.title, **({"text": s.text} if s.text is not None else {})} for s in w.steps]
    return out


def _framework_to_json(f: Framework) -> dict[str, object]:
    out: dict[str, object] = {"title": f.title}
    if f.description is not None:
        out["description"] = f.description
    out["sections"] = list(f.sections)
    return out


def _section_from(data: Mapping[str, Any]) -> Section:
    return Section(
        id=data["id"],
        title=data["title"],
        prompts=tuple(data.get("prompts", ())),
        group=data.get("group"),
        description=data.get("description"),
        private_until_reveal=bool(data.get("private_until_reveal", False)),
        outside_room=str(data.get("outside_room", "notes")),
        closing=bool(data.get("closing", False)),
    )


def _section_to_json(s: Section) -> dict[str, object]:
    out: dict[str, object] = {"id": s.id, "title": s.title}
    if s.group is not None:
        out["group"] = s.group
    if s.description is not None:
        out["description"] = s.description
    out["prompts"] = list(s.prompts)
    out["private_until_reveal"] = s.private_until_reveal
    out["outside_room"] = s.outside_room
    out["closing"] = s.closing
    return out


def _pointer(path: JsonPath) -> str:
    """The JSON pointer (RFC 6901) for ``path``; ``""`` is the whole document."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a JSON object" if isinstance(value, dict) else type(value).__name__
