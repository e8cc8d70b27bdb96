"""Reads a Yjs update (v1 encoding) into its structs without applying it, within bounds set by the caller.

pycrdt decodes an update in native code that recurses into nested values and
reserves memory for the counts an update declares: an update of 60 KB holding
a value nested 30,000 levels deep overflows its stack and kills the process,
and one declaring a list of 2^40 values makes it reserve that much. So every
update a participant sends, and every update read back from storage, is read
here first, and pycrdt only ever sees one that passed.

Only the canonical subset that both Yjs and Yrs (pycrdt's core) write and
read alike is accepted, so what this module reads is what pycrdt will apply:
no content kinds the two decode differently (``ContentJSON``: Yrs reads one
string more than Yjs writes), no subdocuments, no zero-length items (Yrs drops
them, Yjs keeps them), no unused info bits, no repeated client, no trailing
bytes. Lengths must fit in the bytes that follow them.

Depth: a plain value's depth is how many arrays and objects enclose its
innermost part. An item's depth is how many shared types enclose it: an entry
of a root type has depth 1, an entry of a map inside a root has depth 2. An
update only says where its items sit relative to other items; for items it
does not hold, the caller gives an upper bound (``outside_depth``), the
deepest an item of the document may already be.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Protocol

from candor.errors import InvalidUpdate
from candor.protocol.lib0 import (
    ANY_ONE_BYTE,
    ANY_STRING,
    DECODED_MAX,
    Lib0Reader,
    ValueLimits,
    check_json_depth,
    varint,
)

# Content kinds (the low bits of an item's info byte); GC and SKIP are structs of their own.
GC, DELETED, JSON, BINARY, STRING, EMBED, FORMAT, TYPE, ANY, DOC, SKIP = range(11)
KIND_NAMES = ("gc", "deleted", "json", "binary", "string", "embed", "format", "type", "any", "doc", "skip")
# Shared types a TYPE content creates.
TYPE_ARRAY, TYPE_MAP, TYPE_TEXT, TYPE_XML_ELEMENT, TYPE_XML_FRAGMENT, TYPE_XML_HOOK, TYPE_XML_TEXT = range(7)
TYPE_NAMES = ("Y.Array", "Y.Map", "Y.Text", "Y.XmlElement", "Y.XmlFragment", "Y.XmlHook", "Y.XmlText")

HAS_ORIGIN = 0x80
HAS_RIGHT_ORIGIN = 0x40
HAS_PARENT_SUB = 0x20
UNUSED_INFO_BIT = 0x10
CONTENT_BITS = 0x0F

# Clocks and lengths are 32-bit in Yrs (it wraps past that); client ids are JavaScript-safe integers.
MAX_CLOCK = 2**31
MAX_CLIENT = 2**53

ID = tuple[int, int]


@dataclass(frozen=True, slots=True)
class UpdateBounds:
    """What an update may hold: which contents, how deep, how many parts."""

    contents: frozenset[int]
    type_refs: frozenset[int]
    max_value_depth: int = 32
    max_item_depth: int = 64
    # The deepest item the document may already hold (see the module docstring).
    outside_depth: int = 0
    max_structs: int = 100_000
    max_values: int = 200_000
    # Plain values are JSON values only (see ValueLimits).
    json_only: bool = False

    # The same limits, as a lib0 reader takes them.
    values: ValueLimits = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", ValueLimits(self.max_value_depth, self.max_values, self.json_only))


# A free-form Yjs document (``--open-rooms``): every kind both Yjs and Yrs read alike.
OPEN_BOUNDS = UpdateBounds(
    contents=frozenset({DELETED, BINARY, STRING, EMBED, FORMAT, TYPE, ANY}),
    type_refs=frozenset(range(7)),
)


@dataclass(slots=True)
class Struct:
    """One struct of an update: an item (or a GC / skip range) of ``length`` clocks from ``(client, clock)``."""

    client: int
    clock: int
    length: int
    kind: int
    origin: ID | None = None
    right_origin: ID | None = None
    # A root's name, the id of the item that holds the parent type, or None: the same as its origin's.
    parent: str | ID | None = None
    parent_sub: str | None = None
    type_ref: int | None = None
    # Where the struct is in the update: its info byte, the start of its content, its end.
    start: int = 0
    content_start: int = 0
    end: int = 0
    # Shared types above it (1: an entry of a root), and that root; worked out once the update is read.
    depth: int = -2  # (_UNKNOWN until worked out)
    root: str | None = None


@dataclass(slots=True)
class ReadUpdate:
    """An update's structs in the order it holds them, and its delete set as ``(client, clock, length)``."""

    structs: list[Struct]
    deletes: list[tuple[int, int, int]]
    values: int = 0
    _index: dict[int, tuple[list[int], list[Struct]]] = field(default_factory=dict)
    _starts: dict[ID, Struct] = field(default_factory=dict)

    def find(self, item: ID) -> Struct | None:
        """The struct of this update that holds clock ``item[1]`` of client ``item[0]``, if any."""
        exact = self._starts.get(item)
        if exact is not None:  # most references name the first clock of an item
            return exact
        found = self._index.get(item[0])
        if found is None:
            return None
        starts, structs = found
        at = bisect.bisect_right(starts, item[1]) - 1
        if at < 0:
            return None
        struct = structs[at]
        return struct if item[1] < struct.clock + struct.length else None


_ID = re.compile(rb"[\x80-\xff]{0,9}[\x00-\x7f][\x80-\xff]{0,9}[\x00-\x7f]")
_IDS: dict[bytes, ID] = {}


class _Reader(Lib0Reader):
    """A lib0 reader that also reads an update's clocks, client ids and item ids, within its bounds."""

    __slots__ = ("bounds",)

    def __init__(self, data: bytes, bounds: UpdateBounds) -> None:
        super().__init__(data, bounds.values)
        self.bounds = bounds

    def clock(self) -> int:
        value = self.uint()
        if value >= MAX_CLOCK:
            raise InvalidUpdate("update rejected: a clock or length is out of range")
        return value

    def client(self) -> int:
        value = self.uint()
        if value >= MAX_CLIENT:
            raise InvalidUpdate("update rejected: a client id is out of range")
        return value

    def item_id(self) -> ID:
        """A client id and a clock, read in one go (an id is read for nearly every item)."""
        found = _ID.match(self.data, self.pos)
        if found is not None:
            known = _IDS.get(found.group())
            if known is not None:  # the fields of one note all name the note's map, for one
                self.pos = found.end()
                return known
        client, pos = varint(self.data, self.pos)
        clock, end = varint(self.data, pos)
        if client >= MAX_CLIENT or clock >= MAX_CLOCK:
            raise InvalidUpdate("update rejected: a client id or clock is out of range")
        if len(_IDS) >= DECODED_MAX:
            _IDS.clear()
        _IDS[self.data[self.pos : end]] = (client, clock)
        self.pos = end
        return (client, clock)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _content(reader: _Reader, struct: Struct) -> int:
    """Read the item's content; its length in clocks."""
    kind = struct.kind
    bounds = reader.bounds
    if kind == ANY:
        data = reader.data
        pos = reader.pos
        if data[pos] == 1:  # one value, as every map entry holds: its common kinds read here at once
            tag = data[pos + 1]
            if tag in ANY_ONE_BYTE:
                reader.pos = pos + 2
                reader.values += 1
                return 1
            if tag == ANY_STRING and data[pos + 2] < 0x80:
                end = pos + 3 + data[pos + 2]
                if end > len(data):
                    raise IndexError("past the end")
                if not data[pos + 3 : end].isascii():
                    reader.text_at(pos + 3, end)
                reader.pos = end
                reader.values += 1
                return 1
        count = reader.count()
        for _ in range(count):
            reader.any(0)
        return count
    if kind == DELETED:
        return reader.clock()
    if kind == TYPE:
        ref = reader.uint()
        if ref not in bounds.type_refs:
            name = TYPE_NAMES[ref] if ref < len(TYPE_NAMES) else f"type {ref}"
            raise InvalidUpdate(f"update rejected: a {name} has no place here")
        struct.type_ref = ref
        if ref in (TYPE_XML_ELEMENT, TYPE_XML_HOOK):
            reader.skip_text()
        return 1
    if kind == STRING:
        text = reader.text()
        return len(text) if text.isascii() else _utf16_length(text)
    if kind == BINARY:
        reader.raw()
        return 1
    if kind == EMBED:
        check_json_depth(reader.text(), bounds.max_value_depth)
        return 1
    if kind == FORMAT:
        reader.skip_text()
        check_json_depth(reader.text(), bounds.max_value_depth)
        return 1
    raise InvalidUpdate(f"update rejected: content of kind {KIND_NAMES[kind]} has no place here")


def _struct(reader: _Reader, client: int, clock: int) -> Struct:
    start = reader.pos
    info = reader.data[start]
    reader.pos += 1
    if info == GC or info == SKIP:
        struct = Struct(client, clock, 0, info, start=start)
        struct.content_start = reader.pos
        struct.length = reader.clock()
        if struct.length == 0:
            raise InvalidUpdate("update rejected: an empty range")
        struct.end = reader.pos
        return struct
    kind = info & CONTENT_BITS
    if info & UNUSED_INFO_BIT or kind not in reader.bounds.contents:
        name = KIND_NAMES[kind] if kind < len(KIND_NAMES) and not info & UNUSED_INFO_BIT else f"info {info}"
        raise InvalidUpdate(f"update rejected: content of kind {name} has no place here")
    struct = Struct(client, clock, 0, kind, start=start)
    if info & HAS_ORIGIN:
        struct.origin = reader.item_id()
    if info & HAS_RIGHT_ORIGIN:
        struct.right_origin = reader.item_id()
    if not info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN):
        named = reader.uint()
        if named == 1:
            struct.parent = reader.text()
        elif named == 0:
            struct.parent = reader.item_id()
        else:
            raise InvalidUpdate("update rejected: malformed parent")
        if info & HAS_PARENT_SUB:
            struct.parent_sub = reader.text()
    struct.content_start = reader.pos
    struct.length = _content(reader, struct)
    if struct.length == 0:
        raise InvalidUpdate("update rejected: an empty item")
    struct.end = reader.pos
    return struct


def read_update(data: bytes, bounds: UpdateBounds = OPEN_BOUNDS, outside: Outside | None = None) -> ReadUpdate:
    """Read ``data`` as a Yjs v1 update within ``bounds``; raise InvalidUpdate (close 4422) otherwise.

    Nothing is built but the structs' positions and ids: strings are checked
    for UTF-8, values for depth and number, never turned into Python objects.
    """
    reader = _Reader(data, bounds)
    try:
        read = _read(reader)
    except IndexError as exc:
        raise InvalidUpdate("update rejected: it ends in the middle of a part") from exc
    except RecursionError as exc:  # unreachable with sane bounds; refused all the same
        raise InvalidUpdate("update rejected: nested too deep") from exc
    _measure_depths(read, bounds, outside if outside is not None else _Unknown(bounds.outside_depth))
    return read


def _read(reader: _Reader) -> ReadUpdate:
    bounds = reader.bounds
    structs: list[Struct] = []
    index: dict[int, tuple[list[int], list[Struct]]] = {}
    for _ in range(reader.count()):
        count = reader.count()
        client = reader.client()
        clock = reader.clock()
        if client in index:
            raise InvalidUpdate("update rejected: a client's structs are given twice")
        starts: list[int] = []
        own: list[Struct] = []
        index[client] = (starts, own)
        for _ in range(count):
            if len(structs) >= bounds.max_structs:
                raise InvalidUpdate(f"update rejected: more than {bounds.max_structs} items")
            struct = _struct(reader, client, clock)
            clock += struct.length
            if clock >= MAX_CLOCK:
                raise InvalidUpdate("update rejected: a clock is out of range")
            structs.append(struct)
            starts.append(struct.clock)
            own.append(struct)
    deletes: list[tuple[int, int, int]] = []
    for _ in range(reader.count()):
        client = reader.client()
        for _ in range(reader.count()):
            clock = reader.clock()
            length = reader.clock()
            if clock + length >= MAX_CLOCK:
                raise InvalidUpdate("update rejected: a deleted range is out of range")
            deletes.append((client, clock, length))
    if reader.pos != len(reader.data):
        raise InvalidUpdate("update rejected: bytes after its end")
    return ReadUpdate(structs, deletes, reader.values, index, {(s.client, s.clock): s for s in structs})


class Outside(Protocol):
    """What the document already holds, for items an update refers to but does not carry."""

    def depth_of(self, item: ID) -> int:
        """An upper bound of the depth of the existing item ``item``."""
        ...

    def root_of(self, item: ID) -> str | None:
        """The root the existing item ``item`` is under, if known."""
        ...


@dataclass(frozen=True, slots=True)
class _Unknown:
    """Knows nothing of the document: every outside item may be as deep as the bounds say."""

    depth: int

    def depth_of(self, item: ID) -> int:
        return self.depth

    def root_of(self, item: ID) -> str | None:
        return None


_UNKNOWN, _PENDING = -2, -1  # a struct's depth before it is worked out, and while it is


def _measure_depths(read: ReadUpdate, bounds: UpdateBounds, outside: Outside) -> None:
    """Give each item its depth and root (bounds where they depend on items outside the update); refuse too deep."""
    limit = bounds.max_item_depth
    for struct in read.structs:
        if struct.depth != _UNKNOWN or struct.kind == GC or struct.kind == SKIP:
            continue
        stack = [struct]
        while stack:
            current = stack[-1]
            current.depth = _PENDING
            parent = current.parent
            if isinstance(parent, str):
                current.depth, current.root = 1, parent
                stack.pop()
                continue
            # An explicit parent holds the item one level below itself; an origin is a sibling.
            reference = parent if parent is not None else current.origin or current.right_origin
            if reference is None:
                raise InvalidUpdate("update rejected: an item with no place")
            above = read.find(reference)
            if above is not None and above.kind != GC and above.kind != SKIP:
                if above.depth == _UNKNOWN:
                    stack.append(above)
                    continue
                if above.depth == _PENDING:
                    raise InvalidUpdate("update rejected: its items refer to each other in a loop")
                base, root = above.depth, above.root
            else:
                base, root = outside.depth_of(reference), outside.root_of(reference)
            depth = base + 1 if parent is not None else base
            if depth > limit:
                raise InvalidUpdate(f"update rejected: shared types are nested more than {limit} deep")
            current.depth, current.root = depth, root
            stack.pop()
