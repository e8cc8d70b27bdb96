"""The y-websocket codec: round trips and every kind of malformed frame."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Map

from candor.errors import ProtocolError, UnsupportedMessage
from candor.protocol import (
    AwarenessUpdate,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_awareness,
    encode_query_awareness,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)


def _make_update() -> bytes:
    doc: Doc[Map[str]] = Doc()
    doc["notes"] = notes = Map()
    notes["a"] = "hello"
    return doc.get_update()


UPDATE = _make_update()


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (encode_sync_step1(b"\x00"), SyncStep1(b"\x00")),
        (encode_sync_step2(UPDATE), SyncStep2(UPDATE)),
        (encode_update(UPDATE), SyncUpdate(UPDATE)),
        (encode_awareness(b"\x01\x02\x03"), AwarenessUpdate(b"\x01\x02\x03")),
        (encode_query_awareness(), QueryAwareness()),
    ],
    ids=["step1", "step2", "update", "awareness", "query-awareness"],
)
def test_encoded_messages_decode_to_the_same_value(frame: bytes, expected: object) -> None:
    assert decode_message(frame) == expected


def test_long_payload_uses_multibyte_length() -> None:
    payload = bytes(range(256)) * 10
    assert decode_message(encode_update(payload)) == SyncUpdate(payload)


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\x80",  # message type varint never ends
        b"\x00",  # sync without a sub-type
        b"\x00\x02",  # update without its length
        b"\x00\x02\x05abc",  # declared 5 bytes, 3 present
        b"\x00\x02\x81",  # truncated length varint
        b"\x00\x02\x01ab",  # trailing byte after the payload
        b"\x01",  # awareness without payload
        b"\x03\x00",  # query-awareness with trailing bytes
        b"\x00\x02\xff\xff\xff\xff\xff\xff\xff\xff\x7f",  # absurd length
    ],
    ids=[
        "empty",
        "truncated-type",
        "missing-subtype",
        "missing-length",
        "short-payload",
        "truncated-length",
        "trailing-bytes",
        "awareness-no-payload",
        "query-trailing",
        "huge-length",
    ],
)
def test_malformed_frames_raise_protocol_error(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_message(frame)


@pytest.mark.parametrize("frame", [b"\x07", b"\x02\x00\x00", b"\x00\x09\x00"], ids=["type-7", "auth", "sync-9"])
def test_unknown_message_types_are_unsupported(frame: bytes) -> None:
    with pytest.raises(UnsupportedMessage):
        decode_message(frame)
