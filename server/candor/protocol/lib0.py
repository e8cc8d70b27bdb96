"""lib0, the encoding Yjs writes its updates in: varints, strings, "any" values; read within limits, written back.

Reading never builds a value: strings are checked for UTF-8, "any" values for
depth, count and (when asked) for being JSON values, and the caller keeps
positions. See :mod:`candor.protocol.update` for the updates made of them.
"""

from __future__ import annotations

import math
import re
import struct as struct_module
from dataclasses import dataclass
from typing import Any

from candor.errors import InvalidUpdate

# lib0 "any" tags
ANY_UNDEFINED, ANY_NULL, ANY_INTEGER, ANY_FLOAT32, ANY_FLOAT64, ANY_BIGINT = 127, 126, 125, 124, 123, 122
ANY_FALSE, ANY_TRUE, ANY_STRING, ANY_OBJECT, ANY_ARRAY, ANY_BUFFER = 121, 120, 119, 118, 117, 116

ANY_ONE_BYTE = frozenset({ANY_NULL, ANY_TRUE, ANY_FALSE})
_NOT_JSON = frozenset({ANY_UNDEFINED, ANY_BIGINT})


@dataclass(frozen=True, slots=True)
class ValueLimits:
    """How deep "any" values may nest, how many one input may hold, and whether only JSON values pass."""

    max_value_depth: int = 32
    max_values: int = 200_000
    # No undefined, bytes, big integers, NaN or infinities. pycrdt renders those in JSON as
    # something else (NaN as null), so a reader of its JSON would not see them.
    json_only: bool = False


# A varint: up to 9 bytes with the high bit set, then one without (64 bits at most).
_VARINT = re.compile(rb"[\x80-\xff]{0,9}[\x00-\x7f]")
# Varints already decoded: an update names the same client ids again and again (every field of a
# note names the note's map), and so do the updates of one client.
_DECODED: dict[bytes, int] = {}
DECODED_MAX = 4096


def varint(data: bytes, pos: int) -> tuple[int, int]:
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
        if len(_DECODED) >= DECODED_MAX:
            _DECODED.clear()
        _DECODED[raw] = value
    return value, found.end()


class Lib0Reader:
    """A cursor over lib0-encoded bytes; reading past the end raises IndexError (refused by the caller).

    Values are checked within ``limits`` (how deep, how many, JSON only) and never built.
    """

    __slots__ = ("data", "limits", "pos", "values")

    def __init__(self, data: bytes, limits: ValueLimits) -> None:
        self.data = data
        self.pos = 0
        self.limits = limits
        self.values = 0

    def uint(self) -> int:
        data = self.data
        byte = data[self.pos]
        if byte < 0x80:
            self.pos += 1
            return byte
        value, self.pos = varint(data, self.pos)
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
        if self.values > self.limits.max_values:
            raise InvalidUpdate(f"update rejected: more than {self.limits.max_values} values")
        tag = self.data[self.pos]
        self.pos += 1
        if ANY_TRUE <= tag <= ANY_UNDEFINED:  # scalars
            if self.limits.json_only and tag in _NOT_JSON:
                raise InvalidUpdate("update rejected: a value that is not a JSON value")
            if tag == ANY_INTEGER:
                self.uint()
            elif tag == ANY_FLOAT32 or tag == ANY_FLOAT64:
                size = 4 if tag == ANY_FLOAT32 else 8
                start = self.pos
                self.fixed(size)
                if self.limits.json_only:
                    (number,) = struct_module.unpack(">f" if size == 4 else ">d", self.data[start : self.pos])
                    if not math.isfinite(number):
                        raise InvalidUpdate("update rejected: a number that is not finite")
            elif tag == ANY_BIGINT:
                self.fixed(8)
            return
        if tag == ANY_STRING:
            self.skip_text()
        elif tag == ANY_BUFFER:
            if self.limits.json_only:
                raise InvalidUpdate("update rejected: a value that is not a JSON value")
            self.raw()
        elif tag == ANY_OBJECT or tag == ANY_ARRAY:
            if depth >= self.limits.max_value_depth:
                raise InvalidUpdate(f"update rejected: a value is nested more than {self.limits.max_value_depth} deep")
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


def check_json_depth(text: str, limit: int) -> None:
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
_ANY_SIZE = ValueLimits(max_value_depth=2**31, max_values=2**62)


def value_spans(data: bytes, content_start: int) -> list[tuple[int, int]]:
    """Where each value of an ``ANY`` content (as :attr:`Struct.content_start` gives it) starts and ends."""
    reader = Lib0Reader(data, _ANY_SIZE)
    reader.pos = content_start
    spans = []
    for _ in range(reader.count()):
        start = reader.pos
        reader.any(0)
        spans.append((start, reader.pos))
    return spans


def text_at(data: bytes, pos: int) -> tuple[str, int]:
    """The string written at ``pos`` (a varuint length, then UTF-8), and where it ends."""
    reader = Lib0Reader(data, _ANY_SIZE)
    reader.pos = pos
    return reader.text(), reader.pos
