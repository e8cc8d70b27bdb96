"""Shape checks for the parts of a board: each raises InvalidBoard with a message a person understands."""

from __future__ import annotations

from typing import Any

from candor.board import model
from candor.errors import Forbidden, InvalidBoard


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _check_position(what: str, entry: dict[str, Any]) -> None:
    for axis in ("x", "y"):
        if axis in entry and not (_is_number(entry[axis]) and abs(entry[axis]) <= model.POSITION_LIMIT):
            raise InvalidBoard(f"{what}: {axis} must be a number within ±{model.POSITION_LIMIT}")


def _check_optional_text(what: str, entry: dict[str, Any], key: str, max_chars: int) -> None:
    value = entry.get(key)
    if value is not None and not (isinstance(value, str) and len(value) <= max_chars):
        raise InvalidBoard(f"{what}: {key} must be text of at most {max_chars} characters")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int, float))


def _fields(what: str, entry: Any, allowed: frozenset[str]) -> dict[str, Any]:
    """``entry`` as a map of known fields holding plain scalars (text, number, true/false, null)."""
    if not isinstance(entry, dict):
        raise InvalidBoard(f"{what} must be a map of fields")
    unknown = set(entry) - allowed
    if unknown:
        shown = ", ".join(sorted(name[:40] for name in unknown)[:5])
        raise InvalidBoard(f"{what} has unknown fields: {shown}")
    for key, value in entry.items():
        if not _is_scalar(value):
            raise InvalidBoard(f"{what}: {key} must be a plain value, not a list or map")
    return entry


def check_note(note_id: str, note: Any, section_ids: set[str], max_chars: int) -> None:
    what = f"note {note_id}"
    note = _fields(what, note, model.NOTE_FIELDS)
    if note.get("section") not in section_ids:
        raise InvalidBoard(f"{what} is in an unknown section {note.get('section')!r}")
    text = note.get("text")
    if not isinstance(text, str):
        raise InvalidBoard(f"{what} needs a text")
    if len(text) > max_chars:
        raise InvalidBoard(f"{what} is {len(text)} characters long; the limit is {max_chars}")
    if note.get("scope", "room") not in model.SCOPES:
        raise InvalidBoard(f"{what}: scope must be one of {', '.join(model.SCOPES)}")
    if note.get("colour", "yellow") not in model.COLOURS:
        raise InvalidBoard(f"{what}: colour must be one of {', '.join(model.COLOURS)}")
    _check_position(what, note)
    _check_optional_text(what, note, "author", model.NAME_MAX_CHARS)
    _check_optional_text(what, note, "author_name", model.NAME_MAX_CHARS)
    _check_optional_text(what, note, "cluster", model.NAME_MAX_CHARS)
    _check_optional_text(what, note, "from_room", 128)
    _check_optional_text(what, note, "from_note", 128)
    carried = note.get("carried_votes")
    if carried is not None and not (_is_whole(carried) and 0 <= carried <= 1_000_000):
        raise InvalidBoard(f"{what}: carried_votes must be a whole number of dots")
    if not isinstance(note.get("withdrawn", False), bool):
        raise InvalidBoard(f"{what}: withdrawn must be true or false")
    created = note.get("created_ms")
    if created is not None and not (_is_whole(created) and created >= 0):
        raise InvalidBoard(f"{what}: created_ms must be a time in milliseconds")


def check_cluster(cluster_id: str, cluster: Any, section_ids: set[str]) -> None:
    what = f"cluster {cluster_id}"
    cluster = _fields(what, cluster, model.CLUSTER_FIELDS)
    if cluster.get("section") not in section_ids:
        raise InvalidBoard(f"{what} is in an unknown section {cluster.get('section')!r}")
    label = cluster.get("label", "")
    if not (isinstance(label, str) and len(label) <= model.CLUSTER_LABEL_MAX_CHARS):
        raise InvalidBoard(f"{what}: label must be text of at most {model.CLUSTER_LABEL_MAX_CHARS} characters")
    _check_position(what, cluster)


def check_meta(meta: dict[str, Any]) -> None:
    _fields("the board's meta", {k: v for k, v in meta.items() if k != "timer"}, model.META_FIELDS)
    if meta.get("phase", "collect") not in model.PHASES:
        raise InvalidBoard(f"phase must be one of {', '.join(model.PHASES)}")
    for key in ("locked", "hide_totals"):
        if not isinstance(meta.get(key, False), bool):
            raise InvalidBoard(f"{key} must be true or false")
    for key in ("title", "template", "event"):
        if key in meta and not (isinstance(meta[key], str) and len(meta[key]) <= model.TITLE_MAX_CHARS):
            raise InvalidBoard(f"meta {key} must be text of at most {model.TITLE_MAX_CHARS} characters")
    if meta.get("kind", "breakout") not in model.ROOM_KINDS:
        raise InvalidBoard(f"meta kind must be one of {', '.join(model.ROOM_KINDS)}")
    for key, top in (("votes_per_person", 99), ("note_max_chars", 5000)):
        value = meta.get(key, 0)
        if not (_is_whole(value) and 0 <= value <= top):
            raise InvalidBoard(f"{key} must be a whole number from 0 to {top}")
    timer = meta.get("timer")
    if timer is not None:
        if not isinstance(timer, dict) or set(timer) - {"ends_at_ms", "duration_s"}:
            raise InvalidBoard("timer must be null or {ends_at_ms, duration_s}")
        if not all(_is_whole(timer.get(k, 0)) and timer.get(k, 0) >= 0 for k in ("ends_at_ms", "duration_s")):
            raise InvalidBoard("timer times must be whole, non-negative numbers")


def check_sections(sections: list[Any]) -> None:
    seen: set[str] = set()
    for index, entry in enumerate(sections):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise InvalidBoard(f"section {index} must be a map with an id")
        what = f"section {entry['id'][:40]!r}"
        section = _fields(what, {k: v for k, v in entry.items() if k != "prompts"}, model.SECTION_FIELDS)
        if section["id"] in seen:
            raise InvalidBoard(f"{what} is used twice")
        seen.add(section["id"])
        if not (isinstance(section.get("title"), str) and len(section["title"]) <= model.TITLE_MAX_CHARS):
            raise InvalidBoard(f"{what} needs a title of at most {model.TITLE_MAX_CHARS} characters")
        for key in ("group", "description"):
            _check_optional_text(what, section, key, model.DESCRIPTION_MAX_CHARS)
        if not isinstance(section.get("private_until_reveal", False), bool):
            raise InvalidBoard(f"{what}: private_until_reveal must be true or false")
        prompts = entry.get("prompts", [])
        if not isinstance(prompts, list) or not all(
            isinstance(p, str) and len(p) <= model.DESCRIPTION_MAX_CHARS for p in prompts
        ):
            raise InvalidBoard(f"{what}: prompts must be a list of text")


def check_votes(votes: dict[str, Any], touched: set[str], note_ids: set[str], voter: str | None, budget: int) -> None:
    """Touched ballots name existing notes and hold small whole counts; ``voter`` keeps to the budget."""
    spent = 0
    for note_id, ballot in votes.items():
        if not isinstance(ballot, dict):
            raise InvalidBoard(f"votes for note {note_id} must be a map of voter to count")
        if note_id in touched:
            if ballot and note_id not in note_ids:
                raise InvalidBoard(f"votes for a note that does not exist ({note_id})")
            for count in ballot.values():
                if not (_is_whole(count) and 0 <= count <= 99):
                    raise InvalidBoard("a vote count must be a whole number from 0 to 99")
        if voter is not None:
            mine = ballot.get(voter, 0)
            if not _is_whole(mine):
                raise InvalidBoard("a vote count must be a whole number from 0 to 99")
            spent += int(mine)
    if voter is not None and spent > budget:
        raise Forbidden(f"you have {budget} votes and tried to use {spent}")
