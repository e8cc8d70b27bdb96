"""The export value: a board's sections, clusters and notes as an audience may see them (every consent rule lives here).

The rules, applied note by note:

* **Scope.** A ``room`` audience (a room's own export) sees every note of the
  room; an ``event`` audience (an event-wide export) only notes scoped
  ``event`` or ``public``; a ``public`` audience only notes scoped ``public``.
  A missing or unknown scope counts as ``room``, the narrowest.
* **Names.** A note carries its author's name only when the author signed it
  (``author_name`` set); the author's pseudonym never leaves the board, and
  neither do the voters' (a note's votes are the sum of its ballots).
* **Withdrawal.** A note marked ``withdrawn`` does not appear at all. A note
  whose text was purged from storage (its id in ``purged``) appears, in
  exports of moments before its withdrawal, as ``[withdrawn]``: no text, no
  name, no votes.
* **Deletion** needs no rule: a board rebuilt at a later moment no longer has
  the note.

Clusters with no note left to show are dropped, so a label cannot hint at
notes the audience may not see. Renderers get only what passed these rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from candor.board import model
from candor.errors import BadRequest

Audience = Literal["room", "event", "public"]
AUDIENCES: Final[tuple[Audience, ...]] = ("room", "event", "public")
# Which note scopes each audience may see.
VISIBLE_SCOPES: Final[Mapping[Audience, frozenset[str]]] = {
    "room": frozenset(model.SCOPES),
    "event": frozenset({"event", "public"}),
    "public": frozenset({"public"}),
}
ANONYMOUS: Final = "anonymous"
WITHDRAWN_TEXT: Final = "[withdrawn]"
OTHER_SECTION: Final = "Other notes"

# C0 control characters other than tab and newline: not text, and not allowed in XML (pptx).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class ExportNote:
    id: str
    text: str
    author_name: str | None  # set only for a note its author signed
    votes: float
    scope: str
    colour: str | None
    created_ms: int
    from_room: str | None  # label of the room a plenary note came from
    purged: bool = False

    @property
    def attribution(self) -> str:
        return self.author_name or ANONYMOUS


@dataclass(frozen=True, slots=True)
class ExportCluster:
    id: str
    label: str
    notes: tuple[ExportNote, ...]

    @property
    def votes(self) -> float:
        return sum(note.votes for note in self.notes)


@dataclass(frozen=True, slots=True)
class ExportSection:
    id: str
    title: str
    group: str | None
    description: str | None
    prompts: tuple[str, ...]
    notes: tuple[ExportNote, ...]  # not in any cluster
    clusters: tuple[ExportCluster, ...]

    @property
    def all_notes(self) -> tuple[ExportNote, ...]:
        return self.notes + tuple(note for cluster in self.clusters for note in cluster.notes)

    @property
    def is_empty(self) -> bool:
        return not self.notes and not self.clusters


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """Where a board sits: its room id, the label people know it by, and its kind (breakout or plenary)."""

    id: str
    label: str
    kind: str = "breakout"


@dataclass(frozen=True, slots=True)
class ExportRoom:
    id: str
    label: str
    kind: str
    board_title: str  # the board's own title (its template's, unless the facilitator renamed it)
    seq: int  # the board as it stood after this record
    time_ms: int | None  # when that record was accepted
    sections: tuple[ExportSection, ...]

    @property
    def note_count(self) -> int:
        return sum(len(section.all_notes) for section in self.sections)


@dataclass(frozen=True, slots=True)
class IdeaItem:
    note: ExportNote
    room_id: str
    room_label: str


@dataclass(frozen=True, slots=True)
class IdeaGroup:
    """Practical ideas sharing a cluster label across rooms (``label`` None: not clustered)."""

    label: str | None
    items: tuple[IdeaItem, ...]

    @property
    def votes(self) -> float:
        return sum(item.note.votes for item in self.items)


@dataclass(frozen=True, slots=True)
class Export:
    """Everything a renderer needs, already filtered for ``audience``."""

    kind: Literal["room", "event"]
    audience: Audience
    title: str
    description: str | None
    event_id: str | None
    requested_at: str | None  # the ``at`` asked for, as given; None: now
    generated_ms: int
    rooms: tuple[ExportRoom, ...]
    ideas: tuple[IdeaGroup, ...]  # the practical-ideas synthesis (event exports)


def clean_text(value: object) -> str:
    """User text made safe for every format: a string, CRLF as LF, no control characters."""
    text = value if isinstance(value, str) else ""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def is_visible(note: Mapping[str, Any], audience: Audience) -> bool:
    """Whether ``audience`` may see ``note`` at all (scope and withdrawal; purged notes still count)."""
    if note.get("withdrawn") is True:
        return False
    scope = note.get("scope")
    return (scope if scope in model.SCOPES else "room") in VISIBLE_SCOPES[audience]


def signed_name(note: Mapping[str, Any]) -> str | None:
    name = clean_text(note.get("author_name"))
    return name or None


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if float(value).is_integer() else float(value)


def vote_count(ballot: object) -> float:
    """A note's votes: the sum of every voter's dots."""
    if not isinstance(ballot, Mapping):
        return 0
    return _number(sum(_number(dots) for dots in ballot.values()))


def export_note(
    note_id: str, note: Mapping[str, Any], ballot: object, purged: frozenset[str], room_labels: Mapping[str, str]
) -> ExportNote:
    """A visible note as it may be shown: purged notes keep only their place."""
    scope = note.get("scope") if note.get("scope") in model.SCOPES else "room"
    created = note.get("created_ms")
    created_ms = int(created) if isinstance(created, int | float) and not isinstance(created, bool) else 0
    colour = note.get("colour") if isinstance(note.get("colour"), str) else None
    if note_id in purged:
        return ExportNote(note_id, WITHDRAWN_TEXT, None, 0, str(scope), colour, created_ms, None, purged=True)
    origin = note.get("from_room")
    from_room = room_labels.get(origin, origin) if isinstance(origin, str) and origin else None
    return ExportNote(
        note_id,
        clean_text(note.get("text")),
        signed_name(note),
        vote_count(ballot),
        str(scope),
        colour,
        created_ms,
        from_room,
    )


def ranked(notes: list[ExportNote]) -> tuple[ExportNote, ...]:
    """Most votes first where there are votes; otherwise in the order they were written."""
    if any(note.votes for note in notes):
        return tuple(sorted(notes, key=lambda n: (-n.votes, n.created_ms, n.id)))
    return tuple(sorted(notes, key=lambda n: (n.created_ms, n.id)))


def _position(cluster: Mapping[str, Any]) -> tuple[float, float]:
    x, y = cluster.get("x"), cluster.get("y")
    return (_number(y), _number(x))


def _section(
    section: Mapping[str, Any],
    notes: list[tuple[str, Mapping[str, Any]]],
    clusters: Mapping[str, Any],
    build: Callable[[str, Mapping[str, Any]], ExportNote],
) -> ExportSection:
    loose: list[ExportNote] = []
    grouped: dict[str, list[ExportNote]] = {}
    for note_id, note in notes:
        cluster_id = note.get("cluster")
        exported = build(note_id, note)
        if isinstance(cluster_id, str) and isinstance(clusters.get(cluster_id), Mapping):
            grouped.setdefault(cluster_id, []).append(exported)
        else:
            loose.append(exported)
    built = [
        (clusters[cid], ExportCluster(cid, clean_text(clusters[cid].get("label")) or "Untitled", ranked(members)))
        for cid, members in grouped.items()
    ]
    voted = any(cluster.votes for _, cluster in built)
    built.sort(key=lambda pair: ((-pair[1].votes if voted else 0), _position(pair[0]), pair[1].label, pair[1].id))
    prompts = section.get("prompts")
    return ExportSection(
        id=str(section.get("id", "")),
        title=clean_text(section.get("title")) or str(section.get("id", "")),
        group=clean_text(section.get("group")) or None,
        description=clean_text(section.get("description")) or None,
        prompts=tuple(clean_text(p) for p in prompts if isinstance(p, str)) if isinstance(prompts, list) else (),
        notes=ranked(loose),
        clusters=tuple(cluster for _, cluster in built),
    )


def export_room(
    board: Mapping[str, Any],
    room: RoomInfo,
    audience: Audience,
    *,
    seq: int,
    time_ms: int | None,
    purged: frozenset[str] = frozenset(),
    room_labels: Mapping[str, str] | None = None,
) -> ExportRoom:
    """The board JSON (schemas/board.schema.json) of one room as ``audience`` may see it.

    ``purged`` holds ids of notes whose text was purged from storage;
    ``room_labels`` names the rooms plenary notes came from.
    """
    labels = room_labels or {}
    raw_notes = board.get(model.NOTES)
    raw_clusters = board.get(model.CLUSTERS)
    raw_votes = board.get(model.VOTES)
    notes = raw_notes if isinstance(raw_notes, Mapping) else {}
    clusters = raw_clusters if isinstance(raw_clusters, Mapping) else {}
    votes = raw_votes if isinstance(raw_votes, Mapping) else {}
    raw_sections = board.get(model.SECTIONS)
    sections = [s for s in raw_sections if isinstance(s, Mapping)] if isinstance(raw_sections, list) else []

    def build(note_id: str, note: Mapping[str, Any]) -> ExportNote:
        return export_note(note_id, note, votes.get(note_id), purged, labels)

    by_section: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for note_id, note in notes.items():
        if isinstance(note, Mapping) and is_visible(note, audience):
            by_section.setdefault(str(note.get("section")), []).append((str(note_id), note))
    out = [_section(s, by_section.pop(str(s.get("id")), []), clusters, build) for s in sections]
    orphans = [pair for section_notes in by_section.values() for pair in section_notes]
    if orphans:  # notes of a section the facilitator has since removed
        out.append(_section({"id": "", "title": OTHER_SECTION}, orphans, clusters, build))
    meta = board.get(model.META)
    title = clean_text(meta.get("title")) if isinstance(meta, Mapping) else ""
    label = clean_text(room.label) or room.id
    return ExportRoom(room.id, label, room.kind, title or label, seq, time_ms, tuple(out))


def parse_audience(text: str | None, allowed: tuple[Audience, ...]) -> Audience:
    """``text`` as one of the ``allowed`` audiences (the first when None); BadRequest otherwise."""
    if text is None:
        return allowed[0]
    for audience in allowed:
        if text == audience:
            return audience
    raise BadRequest(f"audience must be one of {', '.join(allowed)}, not {text!r}")
