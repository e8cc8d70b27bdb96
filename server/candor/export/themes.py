"""Boards merged by theme: every room's notes in the template's sections, each note once, clusters merged by label.

* **One note, however many copies.** A plenary copy carries ``from_room`` and
  ``from_note`` (the server makes copies); an older copy, the id ``ROOM.NOTE``
  of its source, and one that says neither is matched to a note of that room
  with the same text. A note and its copies are shown once, with every room
  they passed through.
* **The narrowest consent wins.** If any copy is withdrawn, scoped narrower
  than the audience, or sits in a section the template keeps in its room,
  the note is left out; it is signed only if every copy is signed with the
  same name; if any copy was purged it is a ``[withdrawn]`` placeholder.
* **Votes** are counted per voter across copies, the larger ballot of each
  voter, so a ballot that travelled with a copy is not counted twice; the dots
  a copy carried from a room whose note is not in the export are added.
* **Where it goes:** where a facilitator clustered it, the plenary first;
  otherwise where the plenary put it, otherwise where it was written.
* **Clusters** of one section with the same label (case and spacing aside)
  are one cluster, most voted first; notes in a cluster and notes in none
  are ranked most voted first, else in the order they were written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from candor.board import model
from candor.export.model import (
    OTHER_SECTION,
    WITHDRAWN_TEXT,
    Audience,
    ExportCluster,
    ExportNote,
    ExportSection,
    RoomInfo,
    clean_text,
    is_visible,
    number,
    ranked,
    scope_of,
    signed_name,
)

UNTITLED: Final = "Untitled"
# Narrowest first.
_SCOPE_ORDER: Final = {scope: n for n, scope in enumerate(model.SCOPES)}


@dataclass(frozen=True, slots=True)
class RoomBoard:
    """One room's board (its JSON projection) as it stood at the exported moment."""

    info: RoomInfo
    board: Mapping[str, Any]
    seq: int
    time_ms: int | None
    purged: frozenset[str] = frozenset()

    def root(self, name: str) -> Mapping[str, Any]:
        value = self.board.get(name)
        return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True)
class SectionRule:
    """A section as the template describes it, with what may leave its room."""

    id: str
    title: str
    group: str | None = None
    description: str | None = None
    prompts: tuple[str, ...] = ()
    outside_room: str = "notes"
    closing: bool = False


@dataclass(frozen=True, slots=True)
class Placed:
    """A note that passed the consent rules, and where it goes."""

    note: ExportNote
    section: str
    cluster_key: str | None
    cluster_label: str
    cluster_id: str
    order: tuple[float, ...]  # room, then the cluster's place on that board
    room_label: str  # where it was placed
    counted_only: bool  # its section shows counts only


def section_rules(sections: object) -> list[SectionRule]:
    """Rules from a template's (or a board's) ``sections`` JSON, read defensively."""
    rules = []
    for section in sections if isinstance(sections, list) else []:
        if not isinstance(section, Mapping) or not isinstance(section.get("id"), str):
            continue
        prompts = section.get("prompts")
        outside = section.get("outside_room")
        rules.append(
            SectionRule(
                id=section["id"],
                title=clean_text(section.get("title")) or section["id"],
                group=clean_text(section.get("group")) or None,
                description=clean_text(section.get("description")) or None,
                prompts=tuple(clean_text(p) for p in prompts if isinstance(p, str))
                if isinstance(prompts, list)
                else (),
                outside_room=outside if outside in ("notes", "counts", "nothing") else "notes",
                closing=section.get("closing") is True,
            )
        )
    return rules


def label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


@dataclass(frozen=True, slots=True)
class _Copy:
    room: RoomBoard
    order: int
    id: str
    note: Mapping[str, Any]

    @property
    def origin(self) -> str | None:
        origin = self.note.get("from_room")
        return origin if isinstance(origin, str) and origin and origin != self.room.info.id else None

    def cluster(self) -> tuple[str, Mapping[str, Any]] | None:
        cluster_id = self.note.get("cluster")
        found = self.room.root(model.CLUSTERS).get(cluster_id) if isinstance(cluster_id, str) else None
        return (cluster_id, found) if isinstance(cluster_id, str) and isinstance(found, Mapping) else None


def _copies(rooms: Sequence[RoomBoard]) -> list[_Copy]:
    return [
        _Copy(room, n, str(note_id), note)
        for n, room in enumerate(rooms)
        for note_id, note in room.root(model.NOTES).items()
        if isinstance(note, Mapping)
    ]


def note_groups(rooms: Sequence[RoomBoard]) -> list[list[_Copy]]:
    """Every note of every room, a note and its copies in one group, groups in the order they were first seen."""
    copies = _copies(rooms)
    index = {(c.room.info.id, c.id): n for n, c in enumerate(copies)}
    by_text: dict[tuple[str, str], int] = {}
    for n, c in enumerate(copies):
        if c.origin is None:
            by_text.setdefault((c.room.info.id, clean_text(c.note.get("text"))), n)
    parent = list(range(len(copies)))

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for n, c in enumerate(copies):
        origin = c.origin
        if origin is None:
            continue
        from_note = c.note.get("from_note")
        source = index.get((origin, from_note)) if isinstance(from_note, str) else None
        if source is None and c.id.startswith(origin + "."):
            source = index.get((origin, c.id[len(origin) + 1 :]))
        if source is None:
            source = by_text.get((origin, clean_text(c.note.get("text"))))
        if source is not None and source != n:
            parent[find(n)] = find(source)
    groups: dict[int, list[_Copy]] = {}
    for n, c in enumerate(copies):
        groups.setdefault(find(n), []).append(c)
    return list(groups.values())


def _ballot_total(group: list[_Copy]) -> float:
    dots: dict[str, float] = {}
    carried = 0.0
    members = {(c.room.info.id, c.id) for c in group}
    for c in group:
        ballot = c.room.root(model.VOTES).get(c.id)
        for voter, count in ballot.items() if isinstance(ballot, Mapping) else ():
            dots[str(voter)] = max(dots.get(str(voter), 0), number(count))
        if c.origin is not None and (c.origin, c.note.get("from_note")) not in members:
            carried += number(c.note.get("carried_votes"))  # its room's ballot is not in this export
    return number(sum(dots.values()) + carried)


def _rooms_of(group: list[_Copy], origin: _Copy, labels: Mapping[str, str]) -> tuple[str, ...]:
    names: list[str] = []
    if origin.origin is not None:  # a copy whose source is not in this export
        names.append(labels.get(origin.origin, origin.origin))
    names += [origin.room.info.label] + [c.room.info.label for c in group]
    return tuple(dict.fromkeys(clean_text(name) or "?" for name in names))


def place(
    group: list[_Copy], audience: Audience, rules: Mapping[str, SectionRule], labels: Mapping[str, str]
) -> Placed | None:
    """The note a group stands for, as ``audience`` may see it, or None when it may not be seen at all."""
    if any(not is_visible(c.note, audience) for c in group):
        return None
    outside = audience != "room"
    policies = [rules[s].outside_room if (s := str(c.note.get("section"))) in rules else "notes" for c in group]
    if outside and "nothing" in policies:
        return None
    origin = next((c for c in group if c.origin is None), group[0])
    home = min(group, key=lambda c: (c.cluster() is None, c.room.info.kind != "plenary", c.order))
    purged = any(c.id in c.room.purged for c in group)
    names = {signed_name(c.note) for c in group}
    created = [int(v) for c in group if isinstance(v := c.note.get("created_ms"), int | float) and v > 0]
    colour = origin.note.get("colour")
    note = ExportNote(
        id=origin.id,
        text=WITHDRAWN_TEXT if purged else clean_text(origin.note.get("text")),
        author_name=None if purged or len(names) != 1 else names.pop(),
        votes=0 if purged else _ballot_total(group),
        scope=min((scope_of(c.note) for c in group), key=_SCOPE_ORDER.__getitem__),
        colour=colour if isinstance(colour, str) else None,
        created_ms=min(created, default=0),
        rooms=_rooms_of(group, origin, labels),
        purged=purged,
    )
    section = str(home.note.get("section"))
    counted = outside and "counts" in policies
    if counted and (section not in rules or rules[section].outside_room != "counts"):
        section = next(str(c.note.get("section")) for c, p in zip(group, policies, strict=True) if p == "counts")
    cluster = home.cluster()
    if cluster is None:
        return Placed(note, section, None, "", "", (home.order,), home.room.info.label, counted)
    cluster_id, fields = cluster
    label = clean_text(fields.get("label"))
    key = label_key(label) if label else f"\x00{home.room.info.id}\x00{cluster_id}"  # unlabelled: never merged
    order = (home.order, number(fields.get("y")), number(fields.get("x")))
    return Placed(note, section, key, label or UNTITLED, cluster_id, order, home.room.info.label, counted)


def placed_notes(
    rooms: Sequence[RoomBoard], rules: Sequence[SectionRule], audience: Audience, labels: Mapping[str, str]
) -> list[Placed]:
    by_id = {rule.id: rule for rule in rules}
    known = {**{room.info.id: room.info.label for room in rooms}, **labels}
    found = (place(group, audience, by_id, known) for group in note_groups(rooms))
    return [p for p in found if p is not None]


def _label(group: list[Placed]) -> Placed:
    """The member whose label names a merged cluster: the form most of its notes were clustered under, then the
    first on the boards."""
    forms: dict[str, int] = {}
    for p in group:
        forms[p.cluster_label] = forms.get(p.cluster_label, 0) + 1
    return min(group, key=lambda p: (-forms[p.cluster_label], p.order))


def _clusters(placed: list[Placed]) -> tuple[ExportCluster, ...]:
    members: dict[str, list[Placed]] = {}
    for p in placed:
        assert p.cluster_key is not None
        members.setdefault(p.cluster_key, []).append(p)
    built = []
    for group in members.values():
        named = _label(group)
        first = min(p.order for p in group)
        built.append((first, ExportCluster(named.cluster_id, named.cluster_label, ranked([p.note for p in group]))))
    voted = any(cluster.votes for _, cluster in built)
    built.sort(key=lambda pair: ((-pair[1].votes if voted else 0), pair[0], pair[1].label))
    return tuple(cluster for _, cluster in built)


def _section(rule: SectionRule, placed: list[Placed], audience: Audience) -> ExportSection:
    counts = audience != "room" and rule.outside_room == "counts"
    shown = [p for p in placed if not p.counted_only]
    return ExportSection(
        id=rule.id,
        title=rule.title,
        group=rule.group,
        description=rule.description,
        prompts=rule.prompts,
        notes=() if counts else ranked([p.note for p in shown if p.cluster_key is None]),
        clusters=() if counts else _clusters([p for p in shown if p.cluster_key is not None]),
        shown="counts" if counts else "notes",
        count=sum(1 for p in placed if not p.note.purged) if counts else 0,
        closing=rule.closing,
    )


def build_sections(
    placed: list[Placed], rules: Sequence[SectionRule], audience: Audience, *, leave_out: frozenset[str] = frozenset()
) -> tuple[ExportSection, ...]:
    """The export's parts in the rules' order; notes of a section no rule knows end in "Other notes".

    Sections kept in their room are left out for any audience but the room,
    and so are the ``leave_out`` sections (told as stories instead).
    """
    by_section: dict[str, list[Placed]] = {}
    for p in placed:
        by_section.setdefault(p.section, []).append(p)
    out = []
    for rule in rules:
        notes = by_section.pop(rule.id, [])
        if rule.id in leave_out or (audience != "room" and rule.outside_room == "nothing"):
            continue
        out.append(_section(rule, notes, audience))
    orphans = [p for notes in by_section.values() for p in notes if not p.counted_only]
    if orphans:  # notes of a section the facilitator has since removed
        out.append(_section(SectionRule("", OTHER_SECTION), orphans, audience))
    return tuple(out)


def merged_rules(template: Sequence[SectionRule], rooms: Sequence[RoomBoard]) -> list[SectionRule]:
    """The template's sections, then any a facilitator added to a board (in the order first met)."""
    rules = list(template)
    known = {rule.id for rule in rules}
    for room in rooms:
        for rule in section_rules(room.board.get(model.SECTIONS)):
            if rule.id not in known:
                known.add(rule.id)
                rules.append(rule)
    return rules


def iter_notes(sections: Sequence[ExportSection]) -> Iterator[ExportNote]:
    for section in sections:
        yield from section.all_notes
