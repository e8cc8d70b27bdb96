"""Pure y-websocket codec: one websocket frame <-> one typed message, no I/O.

A frame is ``varuint message-type`` followed by its payload:

* ``0`` sync: ``varuint sub-type`` (0 step 1, 1 step 2, 2 update) + ``varbytes``
* ``1`` awareness: ``varbytes`` awareness update
* ``2`` auth: sent by the server only (permission denied + reason)
* ``3`` query-awareness: no payload

``decode_message`` raises :class:`ProtocolError` for anything malformed (truncated
varints, lengths past the end of the frame, trailing bytes) and
:class:`UnsupportedMessage` for a well-formed frame of an unknown type, so the
caller can close the offender with the error's close code.
"""

from __future__ import annotations

from dataclasses import dataclass

from pycrdt import (
    Decoder,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
    write_message,
    write_var_uint,
)

from candor.errors import ProtocolError, UnsupportedMessage

MESSAGE_AUTH = 2
MESSAGE_QUERY_AWARENESS = 3
AUTH_PERMISSION_DENIED = 0


@dataclass(frozen=True, slots=True)
class SyncStep1:
    """The sender's state vector; the answer is a step 2 with what it lacks."""

    state_vector: bytes


@dataclass(frozen=True, slots=True)
class SyncStep2:
    """Everything the receiver lacked, as one Yjs update."""

    update: bytes


@dataclass(frozen=True, slots=True)
class SyncUpdate:
    """One incremental Yjs update."""

    update: bytes


@dataclass(frozen=True, slots=True)
class AwarenessUpdate:
    """An encoded awareness update (presence, cursors); relayed, never logged."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    """A request for every awareness state the room knows."""


Message = SyncStep1 | SyncStep2 | SyncUpdate | AwarenessUpdate | QueryAwareness


@dataclass(frozen=True, slots=True)
class PermissionDenied:
    """The server refused an update (y-websocket's auth message): what a client reads, never what it sends."""

    reason: str


# What a client may receive: any message, or a refusal.
ServerMessage = Message | PermissionDenied


def _read_uint(decoder: Decoder) -> int:
    try:
        value = decoder.read_var_uint()
    except (IndexError, RuntimeError) as exc:
        raise ProtocolError("truncated varint") from exc
    if value > 2**53:
        raise ProtocolError("varint out of range")
    return value


def _read_bytes(decoder: Decoder) -> bytes:
    # pycrdt's read_message trusts the declared length; check it against what
    # is left of the frame first, then rewind and let pycrdt read it.
    if decoder.length <= 0:
        raise ProtocolError("missing payload")
    start, remaining = decoder.i0, decoder.length
    length = _read_uint(decoder)
    if length > decoder.length:
        raise ProtocolError("payload length runs past the end of the frame")
    decoder.i0, decoder.length = start, remaining
    payload = decoder.read_message()
    assert payload is not None
    return payload


def decode_message(frame: bytes) -> Message:
    """Decode one binary websocket frame into a message value."""
    if not frame:
        raise ProtocolError("empty frame")
    decoder = Decoder(frame)
    kind = _read_uint(decoder)
    message: Message
    if kind == YMessageType.SYNC:
        sub = _read_uint(decoder)
        if sub == YSyncMessageType.SYNC_STEP1:
            message = SyncStep1(_read_bytes(decoder))
        elif sub == YSyncMessageType.SYNC_STEP2:
            message = SyncStep2(_read_bytes(decoder))
        elif sub == YSyncMessageType.SYNC_UPDATE:
            message = SyncUpdate(_read_bytes(decoder))
        else:
            raise UnsupportedMessage(f"unknown sync message type {sub}")
    elif kind == YMessageType.AWARENESS:
        message = AwarenessUpdate(_read_bytes(decoder))
    elif kind == MESSAGE_QUERY_AWARENESS:
        message = QueryAwareness()
    else:
        raise UnsupportedMessage(f"unknown message type {kind}")
    if decoder.length != 0:
        raise ProtocolError("trailing bytes after the message")
    return message


def decode_server_message(frame: bytes) -> ServerMessage:
    """Decode one binary frame a client received from a server (benchmarks and tests are such clients)."""
    if frame[:1] == bytes((MESSAGE_AUTH,)):
        decoder = Decoder(frame)
        decoder.read_var_uint()  # message type: auth
        if _read_uint(decoder) != AUTH_PERMISSION_DENIED:
            raise UnsupportedMessage("unknown auth message type")
        reason = _read_bytes(decoder)
        if decoder.length != 0:
            raise ProtocolError("trailing bytes after the message")
        return PermissionDenied(reason.decode(errors="replace"))
    return decode_message(frame)


_SYNC_STEP1_HEADER = write_var_uint(YMessageType.SYNC) + write_var_uint(YSyncMessageType.SYNC_STEP1)
_SYNC_STEP2_HEADER = write_var_uint(YMessageType.SYNC) + write_var_uint(YSyncMessageType.SYNC_STEP2)


def encode_sync_step1(state_vector: bytes) -> bytes:
    return _SYNC_STEP1_HEADER + write_message(state_vector)


def encode_sync_step2(update: bytes) -> bytes:
    return _SYNC_STEP2_HEADER + write_message(update)


def encode_update(update: bytes) -> bytes:
    return create_update_message(update)


def encode_awareness(payload: bytes) -> bytes:
    return create_awareness_message(payload)


def encode_query_awareness() -> bytes:
    return write_var_uint(MESSAGE_QUERY_AWARENESS)


def encode_permission_denied(reason: str) -> bytes:
    """y-websocket's auth message: the client logs the reason and stays connected."""
    encoded = reason.encode()
    return (
        write_var_uint(MESSAGE_AUTH) + write_var_uint(AUTH_PERMISSION_DENIED) + write_var_uint(len(encoded)) + encoded
    )
