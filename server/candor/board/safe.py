"""What a board's updates may hold before pycrdt decodes them, and applying stored updates within it.

A board's shared types sit at one place only: each entry of ``notes``,
``clusters`` and ``votes`` is a ``Y.Map`` of plain fields. So no item of a
board is more than two shared types deep, and rendering a board never
recurses further than that, whatever its log holds. To know where an update's
items go, each board document keeps an :class:`EntryIndex`: the ids of the
items that are entries (the entry maps, live or deleted). An item placed next
to one of those is an entry too; one placed inside one is a field; a shared
type anywhere else is refused before pycrdt sees it.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc

from candor.board import model
from candor.errors import InvalidBoard, InvalidUpdate
from candor.protocol.update import (
    ANY,
    DELETED,
    GC,
    ID,
    OPEN_BOUNDS,
    SKIP,
    TYPE,
    TYPE_MAP,
    ReadUpdate,
    UpdateBounds,
    read_update,
)

logger = logging.getLogger("candor.board")

ENTRY_DEPTH = 1  # an entry of a root: a note, a cluster, a ballot
FIELD_DEPTH = 2  # a field of an entry

BOARD_BOUNDS = UpdateBounds(
    contents=frozenset({DELETED, TYPE, ANY}),
    type_refs=frozenset({TYPE_MAP}),
    max_value_depth=4,
    max_item_depth=FIELD_DEPTH,
    outside_depth=FIELD_DEPTH,
    json_only=True,
)


@dataclass(slots=True)
class EntryIndex:
    """The ids of every item that is an entry of ``notes``, ``clusters`` or ``votes`` (live or deleted).

    Items the index does not hold are, as far as a board goes, fields or
    entries of ``meta`` and ``sections``: plain values, never a place for a
    shared type.
    """

    # client -> (starts, ends, roots), sorted by start
    _ranges: dict[int, tuple[list[int], list[int], list[str]]] = field(default_factory=dict)
    size: int = 0

    def _find(self, item: ID) -> str | None:
        found = self._ranges.get(item[0])
        if found is None:
            return None
        starts, ends, roots = found
        at = bisect.bisect_right(starts, item[1]) - 1
        return roots[at] if at >= 0 and item[1] < ends[at] else None

    def depth_of(self, item: ID) -> int:
        return ENTRY_DEPTH if self._find(item) is not None else FIELD_DEPTH

    def root_of(self, item: ID) -> str | None:
        return self._find(item)

    def add(self, entries: list[tuple[int, int, int, str]]) -> None:
        """Remember entry items ``(client, clock, length, root)`` once their update is admitted."""
        for client, clock, length, root in entries:
            starts, ends, roots = self._ranges.setdefault(client, ([], [], []))
            at = bisect.bisect_right(starts, clock)
            if at > 0 and clock < ends[at - 1]:
                continue  # already known (an update sent twice)
            starts.insert(at, clock)
            ends.insert(at, clock + length)
            roots.insert(at, root)
            self.size += 1


def read_board_update(update: bytes, index: EntryIndex) -> list[tuple[int, int, int, str]]:
    """Read ``update`` within a board's bounds and shape; the entry items it adds. Raises to refuse.

    InvalidUpdate for what is not a well-formed update within bounds;
    InvalidBoard for what has no place on a board.
    """
    read = read_update(update, BOARD_BOUNDS, index)
    check_roots(read)
    entries: list[tuple[int, int, int, str]] = []
    for struct in read.structs:
        if struct.kind in (GC, SKIP):
            continue
        at_entry = struct.depth == ENTRY_DEPTH and struct.root in model.ENTRY_ROOTS
        if struct.kind == TYPE and not at_entry:
            raise InvalidBoard("a board holds maps only as the entries of its notes, clusters and votes")
        if struct.parent is not None and not isinstance(struct.parent, str):
            above = read.find(struct.parent)
            if above is not None and above.kind != TYPE:
                raise InvalidBoard("an item is placed inside something that is not a map")
        if at_entry:
            assert struct.root is not None
            entries.append((struct.client, struct.clock, struct.length, struct.root))
    return entries


def check_roots(read: ReadUpdate) -> None:
    """What an update's own bytes say of the board's roots: known names, entries of the right kind.

    Only items that name their root are checked here (the others sit next to
    an item the board already has); the gate checks every change once applied.
    """
    for struct in read.structs:
        root = struct.parent
        if not isinstance(root, str):
            continue
        if root not in model.ROOTS:
            raise InvalidBoard(f"unknown part of the board: {root[:60]!r}")
        if (root == model.SECTIONS) == (struct.parent_sub is not None):
            raise InvalidBoard(f"the board's {root} is a {'list' if root == model.SECTIONS else 'map'}")
        if struct.kind == DELETED:
            continue
        if root in model.ENTRY_ROOTS:
            if not (struct.kind == TYPE and struct.type_ref == TYPE_MAP):
                raise InvalidBoard(f"each entry of the board's {root} is a Y.Map of fields")
        elif struct.kind != ANY:
            raise InvalidBoard(f"the board's {root} hold plain values only")


def apply_stored(doc: Doc[Any], update: bytes, index: EntryIndex | None, where: str = "") -> bool:
    """Apply an update read back from storage if it keeps the board's shape (``index``: the board's entries).

    With ``index`` None the document is free-form (``--open-rooms``): only the
    bounds of any Yjs document apply. An update that is outside them (written
    before the gate checked it, or damaged) is left out and reported, never
    applied: a board read never crashes on stored data. Returns whether it was applied.
    """
    try:
        if index is not None:
            entries = read_board_update(update, index)
        else:
            read_update(update, OPEN_BOUNDS)
        doc.apply_update(update)
    except (InvalidUpdate, InvalidBoard, ValueError) as exc:
        reason = exc.message if isinstance(exc, (InvalidUpdate, InvalidBoard)) else str(exc)
        logger.error("a stored update %s was refused and left out: %s", where, reason, extra={"reason": "refused"})
        return False
    if index is not None:
        index.add(entries)
    return True
