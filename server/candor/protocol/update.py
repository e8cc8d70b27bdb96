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
import math
import re
import struct as struct_module
from dataclasses import dataclass, field
from typing import Any, Protocol

from candor.errors import InvalidUpdate

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

# lib0 "any" tags
ANY_UNDEFINED, ANY_NULL, ANY_INTEGER, ANY_FLOAT32, ANY_FLOAT64, ANY_BIGINT = 127, 126, 125, 124, 123, 122
ANY_FALSE, ANY_TRUE, ANY_STRING, ANY_OBJECT, ANY_ARRAY, ANY_BUFFER = 121, 120, 119, 118, 117, 116

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
    # Plain values are JSON values only: no undefined, bytes, big integers, NaN or infinities. pycrdt
    # renders those in JSON as something else (NaN as null), so a reader of its JSON would not see them.
    json_only: bool = False


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


# A varint: up to 9 bytes with the high bit set, then one without (64 bits at most).
_VARINT = re.compile(rb"[\x80-\xff]{0,9}[\x00-\x7f]")
# Varints already decoded: an update names the same client ids again and again (every field of a
# note names the note's map), and so do the updates of one client.
_DECODED: dict[bytes, int] = {}
_DECODED_MAX = 4096
_ID = re.compile(rb"[\x80-\xff]{0,9}[\x00-\x7f][\x80-\xff]{0,9}[\x00-\x7f]")
_IDS: dict[bytes, ID] = {}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varuint at ``pos`` and where it ends."""
    found = _VARINT.match(data, pos)
    if found is None:
        if pos >= len(data) or all(byte >= 0x80 for byte in data[pos:]):
            raise IndexError("past the end")
        raise InvalidUpdate("update rejected: a number is longer than 64 bits")
    raw = found.group()
    value = _DECODED.get(raw)
    if value is None:
        value = 0
        for shift, byte in enumerate(raw):
            value |= (byte & 0x7F) << (7 * shift)
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()
        _DECODED[raw] = value
    return value, found.end()


class _Reader:
    """A cursor over the update's bytes; reading past the end raises IndexError (refused by the caller)."""

    __slots__ = ("bounds", "data", "pos", "values")

    def __init__(self, data: bytes, bounds: UpdateBounds) -> None:
        self.data = data
        self.pos = 0
        self.bounds = bounds
        self.values = 0

    def uint(self) -> int:
        data = self.data
        byte = data[self.pos]
        if byte < 0x80:
            self.pos += 1
            return byte
        value, self.pos = _varint(data, self.pos)
        return value

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

    def count(self) -> int:
        """A declared number of parts, each at least one byte long: more than the bytes left is a lie."""
        value = self.uint()
        if value > len(self.data) - self.pos:
            raise InvalidUpdate("update rejected: it declares more parts than it holds")
        return value

    def raw(self) -> bytes:
        size = self.uint()
        end = self.pos + size
        if end > len(self.data):
            raise IndexError("past the end")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def text(self) -> str:
        data, pos = self.data, self.pos
        size = data[pos]
        if size < 0x80:  # most strings here (root names, keys) are short
            end = pos + 1 + size
            if end > len(data):
                raise IndexError("past the end")
            chunk = data[pos + 1 : end]
            self.pos = end
        else:
            chunk = self.raw()
        try:
            return chunk.decode()
        except UnicodeDecodeError as exc:
            raise InvalidUpdate("update rejected: a string is not UTF-8") from exc

    def skip_text(self) -> int:
        """Check a string without keeping it; its length in bytes."""
        size = self.uint()
        end = self.pos + size
        if end > len(self.data):
            raise IndexError("past the end")
        if size and max(self.data[self.pos : end]) >= 0x80:
            self.text_at(self.pos, end)
        self.pos = end
        return size

    def text_at(self, start: int, end: int) -> str:
        try:
            return self.data[start:end].decode()
        except UnicodeDecodeError as exc:
            raise InvalidUpdate("update rejected: a string is not UTF-8") from exc

    def any(self, depth: int) -> None:
        """Check one lib0 "any" value (nested ``depth`` containers deep) without building it."""
        self.values += 1
        if self.values > self.bounds.max_values:
            raise InvalidUpdate(f"update rejected: more than {self.bounds.max_values} values")
        tag = self.data[self.pos]
        self.pos += 1
        if ANY_TRUE <= tag <= ANY_UNDEFINED:  # scalars
            if self.bounds.json_only and tag in _NOT_JSON:
                raise InvalidUpdate("update rejected: a value that is not a JSON value")
            if tag == ANY_INTEGER:
                self.uint()
            elif tag == ANY_FLOAT32 or tag == ANY_FLOAT64:
                size = 4 if tag == ANY_FLOAT32 else 8
                start = self.pos
                self.fixed(size)
                if self.bounds.json_only:
                    (number,) = struct_module.unpack(">f" if size == 4 else ">d", self.data[start : self.pos])
                    if not math.isfinite(number):
                        raise InvalidUpdate("update rejected: a number that is not finite")
            elif tag == ANY_BIGINT:
                self.fixed(8)
            return
        if tag == ANY_STRING:
            self.skip_text()
        elif tag == ANY_BUFFER:
            if self.bounds.json_only:
                raise InvalidUpdate("update rejected: a value that is not a JSON value")
            self.raw()
        elif tag == ANY_OBJECT or tag == ANY_ARRAY:
            if depth >= self.bounds.max_value_depth:
                raise InvalidUpdate(f"update rejected: a value is nested more than {self.bounds.max_value_depth} deep")
            for _ in range(self.count()):
                if tag == ANY_OBJECT:
                    self.skip_text()
                self.any(depth + 1)
        else:
            raise InvalidUpdate(f"update rejected: unknown value tag {tag}")

    def fixed(self, size: int) -> None:
        if self.pos + size > len(self.data):
            raise IndexError("past the end")
        self.pos += size

    def item_id(self) -> ID:
        """A client id and a clock, read in one go (an id is read for nearly every item)."""
        found = _ID.match(self.data, self.pos)
        if found is not None:
            known = _IDS.get(found.group())
            if known is not None:  # the fields of one note all name the note's map, for one
                self.pos = found.end()
                return known
        client, pos = _varint(self.data, self.pos)
        clock, end = _varint(self.data, pos)
        if client >= MAX_CLIENT or clock >= MAX_CLOCK:
            raise InvalidUpdate("update rejected: a client id or clock is out of range")
        if len(_IDS) >= _DECODED_MAX:
            _IDS.clear()
        _IDS[self.data[self.pos : end]] = (client, clock)
        self.pos = end
        return (client, clock)


def _json_depth(text: str, limit: int) -> None:
    """Refuse JSON text whose arrays and objects nest deeper than ``limit`` (strings skipped)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise InvalidUpdate(f"update rejected: a value is nested more than {limit} deep")
        elif char in "]}":
            depth -= 1


_ANY_ONE_BYTE = frozenset({ANY_NULL, ANY_TRUE, ANY_FALSE})
_NOT_JSON = frozenset({ANY_UNDEFINED, ANY_BIGINT})


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
            if tag in _ANY_ONE_BYTE:
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
        _json_depth(reader.text(), bounds.max_value_depth)
        return 1
    if kind == FORMAT:
        reader.skip_text()
        _json_depth(reader.text(), bounds.max_value_depth)
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


def write_uint(value: int) -> bytes:
    """A lib0 varuint."""
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def write_text(text: str) -> bytes:
    data = text.encode()
    return write_uint(len(data)) + data


def write_any(value: Any) -> bytes:
    """A plain scalar (text, number, true/false, null) as a lib0 "any" value, as Yjs writes it."""
    if value is None:
        return bytes([ANY_NULL])
    if value is True or value is False:
        return bytes([ANY_TRUE if value else ANY_FALSE])
    if isinstance(value, str):
        return bytes([ANY_STRING]) + write_text(value)
    if isinstance(value, int) and abs(value) <= 0x7FFFFFFF:
        return bytes([ANY_INTEGER]) + _signed(value)
    if isinstance(value, (int, float)):
        return bytes([ANY_FLOAT64]) + struct_module.pack(">d", float(value))
    raise TypeError(f"not a plain scalar: {type(value).__name__}")


def _signed(value: int) -> bytes:
    """lib0's signed varint: the first byte holds the sign and 6 bits, the others 7 bits each."""
    magnitude = abs(value)
    rest = magnitude >> 6
    out = bytearray([(magnitude & 0x3F) | (0x40 if value < 0 else 0) | (0x80 if rest else 0)])
    while rest:
        byte = rest & 0x7F
        rest >>= 7
        out.append(byte | (0x80 if rest else 0))
    return bytes(out)


# Reading back the parts of content already read within some bounds: no bound of its own.
_ANY_SIZE = UpdateBounds(frozenset(), frozenset(), max_value_depth=2**31, max_values=2**62)


def value_spans(data: bytes, content_start: int) -> list[tuple[int, int]]:
    """Where each value of an ``ANY`` content (as :attr:`Struct.content_start` gives it) starts and ends."""
    reader = _Reader(data, _ANY_SIZE)
    reader.pos = content_start
    spans = []
    for _ in range(reader.count()):
        start = reader.pos
        reader.any(0)
        spans.append((start, reader.pos))
    return spans


def text_at(data: bytes, pos: int) -> tuple[str, int]:
    """The string written at ``pos`` (a varuint length, then UTF-8), and where it ends."""
    reader = _Reader(data, _ANY_SIZE)
    reader.pos = pos
    return reader.text(), reader.pos
