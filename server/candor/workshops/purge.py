"""Purging withdrawn notes: their own text and signature are removed from storage; nothing else is touched.

A note is a ``Y.Map``; each value its ``text`` or ``author_name`` ever had is
an item of that map under that key, with an id of its own. Replaying the
room's log item by item (never applying it) finds those items, and only
those: another note with the same words, a cluster label, someone else's
signature are other items and stay as they are. Each stored update and
snapshot holding one is rewritten with the item's content blanked in place
(same kind, same length in clocks), so every update still applies and the
board rebuilds with the note present but its words gone.
"""

from __future__ import annotations

import bisect
import functools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from candor.board import model
from candor.board.projection import board_to_json
from candor.errors import InvalidUpdate
from candor.history.rebuild import rebuild
from candor.ids import RoomId, Seq
from candor.log.redaction import PurgeableLog
from candor.protocol.lib0 import text_at, value_spans, write_any, write_text, write_uint
from candor.protocol.update import (
    ANY,
    BINARY,
    DELETED,
    EMBED,
    FORMAT,
    GC,
    ID,
    SKIP,
    STRING,
    TYPE,
    Struct,
    UpdateBounds,
    read_update,
)
from candor.workshops.controls import RoomControls
from candor.workshops.reveal import DRAFTS_SEPARATOR

# The fields a purge blanks, and what each becomes.
PURGED_FIELDS = {"text": "", "author_name": None}
FILLER_UNIT = "#".encode("utf-16-le")

# Stored updates are read here for their ids only: whatever pycrdt could have applied, read alike.
_STORED = UpdateBounds(
    contents=frozenset({DELETED, BINARY, STRING, EMBED, FORMAT, TYPE, ANY}),
    type_refs=frozenset(range(7)),
    max_value_depth=64,
    max_item_depth=10**6,
    max_structs=10**7,
    max_values=10**8,
)


@dataclass(frozen=True, slots=True)
class PurgeResult:
    room: RoomId
    notes: list[str]
    rewritten: int


@dataclass(slots=True)
class _Places:
    """Where each item of a room sits: its parent (a root's name or the id of the item holding its type) and key."""

    # client -> sorted starts, and (end, parent, key) for each
    _starts: dict[int, list[int]] = field(default_factory=dict)
    _places: dict[int, list[tuple[int, str | ID | None, str | None]]] = field(default_factory=dict)

    def of(self, item: ID) -> tuple[str | ID | None, str | None] | None:
        starts = self._starts.get(item[0])
        if not starts:
            return None
        at = bisect.bisect_right(starts, item[1]) - 1
        if at < 0:
            return None
        end, parent, key = self._places[item[0]][at]
        return (parent, key) if item[1] < end else None

    def add(self, client: int, clock: int, length: int, parent: str | ID | None, key: str | None) -> None:
        starts = self._starts.setdefault(client, [])
        places = self._places.setdefault(client, [])
        at = bisect.bisect_right(starts, clock)
        if at > 0 and clock < places[at - 1][0]:
            return  # known already (an update that repeats items)
        starts.insert(at, clock)
        places.insert(at, (clock + length, parent, key))


@dataclass(slots=True)
class Targets:
    """The items to blank: (client, start, end, field) ranges, found from a room's whole log."""

    ranges: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)

    def add(self, client: int, start: int, end: int, key: str) -> None:
        self.ranges.setdefault(client, []).append((start, end, key))

    def field_at(self, client: int, clock: int) -> str | None:
        for start, end, key in self.ranges.get(client, ()):
            if start <= clock < end:
                return key
        return None

    def __bool__(self) -> bool:
        return bool(self.ranges)


def find_targets(updates: Iterable[bytes], note_ids: set[str]) -> Targets:
    """The items that ever held the text or signature of the notes ``note_ids``, from a room's updates in order."""
    places = _Places()
    note_maps: set[ID] = set()  # the ids of every map that ever was one of those notes
    targets = Targets()
    blanked: dict[ID, str] = {}  # id of a targeted item holding a shared type -> its field
    for update in updates:
        try:
            read = read_update(update, _STORED)
        except InvalidUpdate:
            continue  # never applied anywhere: it holds nothing a board ever showed
        unresolved = list(read.structs)
        # An item without a parent of its own sits where its origin does: resolve in passes.
        for _ in range(len(unresolved) + 1):
            later = []
            for struct in unresolved:
                if struct.kind in (GC, SKIP):  # ranges that hold no content
                    continue
                place = _place(struct, places)
                if place is None:
                    later.append(struct)
                    continue
                parent, key = place
                places.add(struct.client, struct.clock, struct.length, parent, key)
                item = (struct.client, struct.clock)
                if parent == model.NOTES and key in note_ids and struct.kind == TYPE:
                    note_maps.add(item)
                field_name = None
                if isinstance(parent, tuple) and parent in note_maps and key in PURGED_FIELDS:
                    field_name = key
                elif isinstance(parent, tuple) and parent in blanked:
                    field_name = blanked[parent]  # inside a shared type that held the text
                if field_name is not None:
                    targets.add(struct.client, struct.clock, struct.clock + struct.length, field_name)
                    if struct.kind == TYPE:
                        blanked[item] = field_name
            if len(later) == len(unresolved):
                break
            unresolved = later
    return targets


def _place(struct: Struct, places: _Places) -> tuple[str | ID | None, str | None] | None:
    if struct.parent is not None:
        return struct.parent, struct.parent_sub
    neighbour = struct.origin or struct.right_origin
    return places.of(neighbour) if neighbour is not None else None


def blank(update: bytes, targets: Targets, removed: set[bytes] | None = None) -> bytes:
    """``update`` with the content of every targeted item blanked in place (kind and length kept).

    ``removed``, when given, collects the content taken out (as encoded), so storage can be searched for it.
    """
    if not targets:
        return update
    try:
        read = read_update(update, _STORED)
    except InvalidUpdate:
        return update
    pieces: list[bytes] = []
    last = 0
    for struct in read.structs:
        if struct.client not in targets.ranges or struct.kind not in (ANY, STRING, BINARY, EMBED, FORMAT):
            continue
        fields = [targets.field_at(struct.client, struct.clock + offset) for offset in range(struct.length)]
        if not any(fields):
            continue
        pieces.append(update[last : struct.content_start])
        pieces.append(_blanked_content(update, struct, fields))
        if removed is not None:
            removed.update(_taken(update, struct, fields))
        last = struct.end
    if not pieces:
        return update
    pieces.append(update[last:])
    return b"".join(pieces)


def _blanked_content(update: bytes, struct: Struct, fields: list[str | None]) -> bytes:
    """The item's content with the targeted values (or characters) blanked; the same kind and length."""
    if struct.kind == ANY:
        spans = value_spans(update, struct.content_start)
        values = [
            write_any(PURGED_FIELDS.get(name, "")) if name is not None else update[start:end]
            for name, (start, end) in zip(fields, spans, strict=True)
        ]
        return write_uint(len(values)) + b"".join(values)
    if struct.kind == STRING:
        units = text_at(update, struct.content_start)[0].encode("utf-16-le")
        kept = b"".join(units[2 * i : 2 * i + 2] if name is None else FILLER_UNIT for i, name in enumerate(fields))
        return write_text(kept.decode("utf-16-le", errors="replace"))
    if struct.kind == BINARY:
        return write_uint(0)
    if struct.kind == EMBED:
        return write_text("null")
    # FORMAT: the attribute's name, then its value
    _, name_end = text_at(update, struct.content_start)
    return update[struct.content_start : name_end] + write_text("null")


def _taken(update: bytes, struct: Struct, fields: list[str | None]) -> list[bytes]:
    """The encoded values (or the text) of a struct that are blanked, as storage holds them."""
    if struct.kind == ANY:
        spans = value_spans(update, struct.content_start)
        return [update[start:end] for name, (start, end) in zip(fields, spans, strict=True) if name is not None]
    if struct.kind == STRING:
        return [text_at(update, struct.content_start)[0].encode()]
    return [update[struct.content_start : struct.end]]


async def _withdrawn(log: PurgeableLog, room: RoomId) -> set[str]:
    rebuilt = await rebuild(log, room, await log.head(room))
    notes = board_to_json(rebuilt.doc)[model.NOTES]
    return {note_id for note_id, note in notes.items() if isinstance(note, dict) and note.get("withdrawn") is True}


async def purge_withdrawn(log: PurgeableLog, controls: RoomControls, room: RoomId) -> PurgeResult:
    """Blank the text and signature of every withdrawn note of ``room`` (and of its drafts) in storage.

    Every process serving boards holds the rooms meanwhile (their peers closed,
    the rooms unloaded after a last snapshot, which is rewritten too), so none
    keeps or writes back a copy of the words.
    """
    prefix = room + DRAFTS_SEPARATOR
    rooms = [room, *(r for r in await log.rooms() if r.startswith(prefix))]
    rewritten = 0
    purged: list[str] = []
    async with controls.held(rooms, "purge"):
        for each in rooms:
            withdrawn = await _withdrawn(log, each)
            if not withdrawn:
                continue
            records = await log.read(each, after=Seq(0))
            targets = find_targets((record.update for record in records), withdrawn)
            removed: set[bytes] = set()
            rewrite = functools.partial(blank, targets=targets, removed=removed)
            rewritten += await log.redact([each], rewrite, removed)
            await log.mark_purged(each, sorted(withdrawn), int(time.time() * 1000))
            if each == room:
                purged = sorted(withdrawn)
    return PurgeResult(room, purged, rewritten)
