"""An event's details as its facilitator fills them (who ran it, where, when, how many took part), checked once."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator

from candor.errors import BadRequest
from candor.schemas import schema_path

DETAILS_SCHEMA = "event-details.schema.json"
_BLANK = re.compile(r"\s*")


@dataclass(frozen=True, slots=True)
class Facilitator:
    name: str
    about: str | None = None


@dataclass(frozen=True, slots=True)
class EventDetails:
    """Every field optional: an export leaves out what was not filled."""

    question: str | None = None
    date: str | None = None  # YYYY-MM-DD
    where: str | None = None
    facilitators: tuple[Facilitator, ...] = ()
    participants: int | None = None
    participants_about: str | None = None
    next_steps: tuple[str, ...] = ()


@functools.cache
def _validator() -> Any:
    schema = json.loads(schema_path(DETAILS_SCHEMA).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _text(value: object) -> str | None:
    """A filled-in string, stripped; None for blank or absent."""
    return value.strip() if isinstance(value, str) and not _BLANK.fullmatch(value) else None


def parse_details(data: object) -> EventDetails:
    """The details in the JSON value ``data`` (schemas/event-details.schema.json); BadRequest naming the first fault."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "details"
        raise BadRequest(f"{where}: {error.message}")
    assert isinstance(data, dict)
    day = data.get("date")
    if isinstance(day, str):
        try:
            date.fromisoformat(day)
        except ValueError as exc:
            raise BadRequest(f"date: {day!r} is not a day of the calendar") from exc
    participants = data.get("participants")
    return EventDetails(
        question=_text(data.get("question")),
        date=day if isinstance(day, str) else None,
        where=_text(data.get("where")),
        facilitators=tuple(Facilitator(f["name"].strip(), _text(f.get("about"))) for f in data.get("facilitators", ())),
        participants=int(participants) if isinstance(participants, int | float) else None,
        participants_about=_text(data.get("participants_about")),
        next_steps=tuple(step.strip() for step in data.get("next_steps", ())),
    )


def details_to_json(details: EventDetails) -> dict[str, Any]:
    """The inverse of :func:`parse_details`; fields not filled are left out."""
    out: dict[str, Any] = {}
    for name in ("question", "date", "where"):
        if getattr(details, name) is not None:
            out[name] = getattr(details, name)
    if details.facilitators:
        out["facilitators"] = [
            {"name": f.name, **({"about": f.about} if f.about else {})} for f in details.facilitators
        ]
    if details.participants is not None:
        out["participants"] = details.participants
    if details.participants_about is not None:
        out["participants_about"] = details.participants_about
    if details.next_steps:
        out["next_steps"] = list(details.next_steps)
    return out


def stored_details(data: object) -> EventDetails:
    """Details as the store kept them; anything unreadable (an older or damaged row) counts as nothing filled."""
    try:
        return parse_details(data)
    except BadRequest:
        return EventDetails()
