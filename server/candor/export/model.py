"""The export value, and the consent rules each note passes before any renderer sees it.

The rules, applied note by note (themes.py applies them to a note and its
copies together):

* **Scope.** A ``room`` audience (a room's own export) sees every note of the
  room; an ``event`` audience (an event-wide export) only notes scoped
  ``event`` or ``public``; a ``public`` audience only notes scoped ``public``.
  A missing or unknown scope counts as ``room``, the narrowest.
* **Names.** A note carries its author's name only when the author signed it
  (``author_name`` set); the author's pseudonym never leaves the board, and
  neither do the voters' (a note's votes are the sum of its ballots).
* **Withdrawal.** A note marked ``withdrawn`` does not appear at all. A note
  whose text was purged from storage appears, in exports of moments before
  its withdrawal, as ``[withdrawn]``: no text, no name, no votes.
* **The template's privacy.** For any audience but the room itself, a section
  the template keeps in its room (``outside_room: nothing``) is left out and
  one shown as ``counts`` holds only how many notes were shared.
* **Deletion** needs no rule: a board rebuilt at a later moment no longer has
  the note.

Clusters with no note left to show are dropped, so a label cannot hint at
notes the audience may not see. Renderers get only what passed these rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
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

Shown = Literal["notes", "counts"]

# C0 control characters other than tab and newline: not text, and not allowed in XML (pptx); and lone
# surrogates, which no file encoding can hold.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class ExportNote:
    """One note, once, whatever copies of it were made: ``rooms`` names where it was written, then where it went."""

    id: str
    text: str
    author_name: str | None  # set only when its author signed it (and every copy of it)
    votes: float
    scope: str
    colour: str | None
    created_ms: int
    rooms: tuple[str, ...]  # room labels, the one it was written in first
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
    """A part of the export: a section of the template (an event's theme) or of one board."""

    id: str
    title: str
    group: str | None
    description: str | None
    prompts: tuple[str, ...]
    notes: tuple[ExportNote, ...]  # not in any cluster
    clusters: tuple[ExportCluster, ...]
    shown: Shown = "notes"
    count: int = 0  # for ``counts``: how many notes the audience could have seen
    closing: bool = False

    @property
    def all_notes(self) -> tuple[ExportNote, ...]:
        return self.notes + tuple(note for cluster in self.clusters for note in cluster.notes)

    @property
    def is_empty(self) -> bool:
        return not self.notes and not self.clusters and not (self.shown == "counts" and self.count)


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """Where a board sits: its room id, the label people know it by, and its kind (breakout or plenary)."""

    id: str
    label: str
    kind: str = "breakout"


@dataclass(frozen=True, slots=True)
class ExportRoom:
    """A room an export draws on, and the moment of its log it was taken at."""

    id: str
    label: str
    kind: str
    board_title: str  # the board's own title (its template's, unless the facilitator renamed it)
    seq: int  # the board as it stood after this record
    time_ms: int | None  # when that record was accepted


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    about: str | None


@dataclass(frozen=True, slots=True)
class FrameworkPart:
    title: str
    prompts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Framework:
    title: str
    description: str | None
    parts: tuple[FrameworkPart, ...]


@dataclass(frozen=True, slots=True)
class Frame:
    """The session's frame, first in an event export: its question, who ran it, what we did, the agreement."""

    question: str | None
    date: str  # in words: "23 November 2026"
    where: str | None
    facilitators: tuple[Person, ...]
    participants: int | None
    participants_about: str | None
    what_we_did_intro: str | None
    what_we_did: tuple[Person, ...]  # each step: its title and text
    frameworks: tuple[Framework, ...]
    agreement_title: str | None
    agreement_intro: str | None
    agreement: tuple[str, ...]
    next_steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoryPart:
    section_id: str
    title: str
    notes: tuple[ExportNote, ...]


@dataclass(frozen=True, slots=True)
class Story:
    title: str
    parts: tuple[StoryPart, ...]


@dataclass(frozen=True, slots=True)
class Stories:
    title: str
    stories: tuple[Story, ...]


@dataclass(frozen=True, slots=True)
class Export:
    """Everything a renderer needs, already filtered for ``audience``."""

    kind: Literal["room", "event"]
    audience: Audience
    title: str
    description: str | None
    event_id: str | None
    requested_at: str | None  # the ``at`` asked for, as given; None: now
    moment: str  # that moment in words: "as it stood at the end of the vote"
    generated_ms: int
    date: str  # the day in words, for footers
    rooms: tuple[ExportRoom, ...]
    sections: tuple[ExportSection, ...]
    frame: Frame | None = None
    stories: Stories | None = None

    @property
    def note_count(self) -> int:
        stories = self.stories.stories if self.stories else ()
        told = sum(len(part.notes) for story in stories for part in story.parts)
        return sum(len(section.all_notes) for section in self.sections) + told


def clean_text(value: object) -> str:
    """User text made safe for every format: a string, CRLF as LF, no control characters."""
    text = value if isinstance(value, str) else ""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def scope_of(note: Mapping[str, Any]) -> str:
    scope = note.get("scope")
    return scope if isinstance(scope, str) and scope in model.SCOPES else "room"


def is_visible(note: Mapping[str, Any], audience: Audience) -> bool:
    """Whether ``audience`` may see ``note`` at all (scope and withdrawal; purged notes still count)."""
    if note.get("withdrawn") is True:
        return False
    return scope_of(note) in VISIBLE_SCOPES[audience]


def signed_name(note: Mapping[str, Any]) -> str | None:
    name = clean_text(note.get("author_name"))
    return name or None


def number(value: object) -> float:
    """A JSON number as an int where it is whole; 0 for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return 0
    return int(value) if float(value).is_integer() else float(value)


def ranked(notes: list[ExportNote]) -> tuple[ExportNote, ...]:
    """Most votes first where there are votes; otherwise in the order they were written."""
    if any(note.votes for note in notes):
        return tuple(sorted(notes, key=lambda n: (-n.votes, n.created_ms, n.id)))
    return tuple(sorted(notes, key=lambda n: (n.created_ms, n.id)))


def parse_audience(text: str | None, allowed: tuple[Audience, ...]) -> Audience:
    """``text`` as one of the ``allowed`` audiences (the first when None); BadRequest otherwise."""
    if text is None:
        return allowed[0]
    for audience in allowed:
        if text == audience:
            return audience
    raise BadRequest(f"audience must be one of {', '.join(allowed)}, not {text!r}")
