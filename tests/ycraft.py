"""Hand-made Yjs updates (v1 encoding) of the kinds no well-behaved client writes: what an attacker sends."""

from __future__ import annotations

from candor.protocol.lib0 import ANY_ARRAY, ANY_INTEGER, ANY_OBJECT, write_any, write_text, write_uint
from candor.protocol.update import ANY, HAS_ORIGIN, HAS_PARENT_SUB, HAS_RIGHT_ORIGIN, ID, TYPE


def item(
    kind: int,
    content: bytes,
    *,
    parent: str | ID | None = None,
    key: str | None = None,
    origin: ID | None = None,
    right: ID | None = None,
) -> bytes:
    """One item struct: info byte, ids, parent (when it has no origin), then ``content`` as given."""
    info = kind | (HAS_ORIGIN if origin else 0) | (HAS_RIGHT_ORIGIN if right else 0)
    out = bytearray()
    if origin:
        out += write_uint(origin[0]) + write_uint(origin[1])
    if right:
        out += write_uint(right[0]) + write_uint(right[1])
    if not origin and not right:
        if isinstance(parent, str):
            out += write_uint(1) + write_text(parent)
        else:
            assert parent is not None
            out += write_uint(0) + write_uint(parent[0]) + write_uint(parent[1])
        if key is not None:
            info |= HAS_PARENT_SUB
            out += write_text(key)
    return bytes([info]) + bytes(out) + content


def update(client: int, structs: list[bytes], clock: int = 0, deletes: bytes = b"\x00") -> bytes:
    """One client's structs from ``clock`` on, then a delete set (empty by default)."""
    return (
        write_uint(1) + write_uint(len(structs)) + write_uint(client) + write_uint(clock) + b"".join(structs) + deletes
    )


def values(*encoded: bytes) -> bytes:
    """``ANY`` content: the values, each already encoded."""
    return write_uint(len(encoded)) + b"".join(encoded)


def nested_array(depth: int) -> bytes:
    """One plain value: an array in an array ... ``depth`` deep, around the number 1 (2 bytes a level)."""
    return bytes([ANY_ARRAY, 1]) * depth + bytes([ANY_INTEGER, 1])


def nested_object(depth: int) -> bytes:
    return (bytes([ANY_OBJECT, 1]) + write_text("k")) * depth + bytes([ANY_INTEGER, 1])


def plain(value: object) -> bytes:
    return write_any(value)


def map_chain(client: int, root: str, key: str, depth: int) -> bytes:
    """Y.Maps each inside the one before, ``depth`` deep, from ``root[key]``: all in one update."""
    structs = [item(TYPE, write_uint(1), parent=root, key=key)]
    structs += [item(TYPE, write_uint(1), parent=(client, i - 1), key=key) for i in range(1, depth)]
    return update(client, structs)


def any_item(root: str, key: str, *encoded: bytes) -> bytes:
    return item(ANY, values(*encoded), parent=root, key=key)
