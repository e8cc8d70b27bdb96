"""Names the Redis log and the Redis broker share: each room's keys and channel, and the news of an append.

The log's append script announces each append on the room's channel; the
broker listens there, relays awareness there, and skips its own process's
messages by the node id in them. Both take that node id from their owner's
constructor call (``open_storage``), and both name keys and channels only here.
"""

from __future__ import annotations

import secrets

from candor.ids import RoomId

ROOMS_KEY = "candor:rooms"  # set of every room name (the one key outside any room's slot)

# Kinds of message on a room's channel: kind (1 byte), length of the node id (1 byte), node id, payload.
AWARENESS = b"A"  # payload: an awareness update of one of the node's peers
QUERY = b"Q"  # who is present? every other node answers with its own peers' states
NEWS = b"N"  # published by the append script: payload = the room's new head seq


def room_key(room: RoomId, part: str) -> str:
    """The key of one of ``room``'s structures (``log``, ``head``, ``snap``, ...), with the room as hash tag."""
    return f"candor:{{{room}}}:{part}"


def room_channel(room: RoomId) -> str:
    """The room's shard channel: news of its appends and its awareness (it lives on the room's shard)."""
    return room_key(room, "awareness")


def stream_id(seq: int) -> str:
    """The id of the stream entry that holds record ``seq``."""
    return f"{seq}-0"


def seq_of(entry_id: bytes | str) -> int:
    """The seq a stream entry id stands for; ValueError for an id that is not ``<seq>-0``."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    seq, _, sub = text.partition("-")
    if sub != "0":
        raise ValueError(f"stream id {text!r} is not <seq>-0")
    return int(seq)


def new_node_id() -> bytes:
    """A fresh id for this process's messages (its log's news and its broker's awareness)."""
    return secrets.token_hex(6).encode()


def encode_relay(kind: bytes, node: bytes, payload: bytes = b"") -> bytes:
    """A channel message: kind (1 byte), length of the node id (1 byte), node id, payload."""
    return kind + bytes([len(node)]) + node + payload


def decode_relay(data: bytes) -> tuple[bytes, bytes, bytes]:
    """``(kind, node, payload)``; ValueError for a message too short to hold its header."""
    if len(data) < 2 or len(data) < 2 + data[1]:
        raise ValueError("relay message is shorter than its header")
    end = 2 + data[1]
    return data[:1], data[2:end], data[end:]
