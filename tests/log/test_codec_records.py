"""The msgpack record format: round trip, version check, malformed input."""

from __future__ import annotations

import msgpack
import pytest

from candor.errors import CorruptRecord, ProtocolError
from candor.ids import PeerId, RoomId, Seq
from candor.log import RECORD_VERSION, LogRecord, decode_record, encode_record


def test_record_round_trips() -> None:
    record = LogRecord(RoomId("r"), Seq(7), 1_700_000_000_000, PeerId("p-abc"), b"\x01\x02")
    assert decode_record(encode_record(record)) == record


def test_record_is_a_versioned_msgpack_array() -> None:
    record = LogRecord(RoomId("r"), Seq(7), 5, PeerId("p"), b"u")
    assert msgpack.unpackb(encode_record(record)) == [RECORD_VERSION, "r", 7, 5, "p", b"u"]


@pytest.mark.parametrize(
    "data",
    [
        b"\xc1",
        msgpack.packb({"v": 1}),
        msgpack.packb([2, "r", 1, 5, "p", b"u"]),
        msgpack.packb([1, "r", 1, 5, "p"]),
        msgpack.packb([1, "r", "1", 5, "p", b"u"]),
        msgpack.packb([1, "r", 0, 5, "p", b"u"]),
    ],
    ids=["not-msgpack", "map", "unknown-version", "short", "seq-as-text", "seq-zero"],
)
def test_bad_records_are_corrupt_records_not_protocol_errors(data: bytes) -> None:
    """Stored bytes that do not decode are storage's failure (close 1011), not the client's (1002)."""
    with pytest.raises(CorruptRecord) as raised:
        decode_record(data)
    assert not isinstance(raised.value, ProtocolError)
