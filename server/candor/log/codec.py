"""msgpack framing of log records (format documented in schemas/log-record.md).

What fails to decode was written by storage, not sent by a client: it raises
:class:`~candor.errors.CorruptRecord`, a storage error (close 1011), never a protocol error.
"""

from __future__ import annotations

import msgpack

from candor.errors import CorruptRecord
from candor.ids import PeerId, RoomId, Seq
from candor.log.base import LogRecord, SnapshotRecord

RECORD_VERSION = 1
SNAPSHOT_VERSION = 1


def encode_record(record: LogRecord) -> bytes:
    """``[version, room, seq, time_ms, origin, update]`` as a msgpack array."""
    packed: bytes = msgpack.packb(
        [RECORD_VERSION, record.room, record.seq, record.time_ms, record.origin, record.update],
        use_bin_type=True,
    )
    return packed


def decode_record(data: bytes) -> LogRecord:
    """Inverse of :func:`encode_record`; raises CorruptRecord on anything else."""
    try:
        fields = msgpack.unpackb(data, raw=False)
    except (ValueError, msgpack.UnpackException) as exc:
        raise CorruptRecord("log record is not valid msgpack") from exc
    if not isinstance(fields, list) or not fields:
        raise CorruptRecord("log record is not a msgpack array")
    if fields[0] != RECORD_VERSION:
        raise CorruptRecord(f"unsupported log record version {fields[0]!r}")
    if len(fields) != 6:
        raise CorruptRecord("log record version 1 has 6 fields")
    _, room, seq, time_ms, origin, update = fields
    if not (
        isinstance(room, str)
        and isinstance(seq, int)
        and isinstance(time_ms, int)
        and isinstance(origin, str)
        and isinstance(update, bytes)
        and seq >= 1
    ):
        raise CorruptRecord("log record fields have the wrong types")
    return LogRecord(RoomId(room), Seq(seq), time_ms, PeerId(origin), update)


def encode_snapshot(snapshot: SnapshotRecord) -> bytes:
    """``[version, room, seq, time_ms, state]`` as a msgpack array (how a key-value store keeps one)."""
    packed: bytes = msgpack.packb(
        [SNAPSHOT_VERSION, snapshot.room, snapshot.seq, snapshot.time_ms, snapshot.state], use_bin_type=True
    )
    return packed


def decode_snapshot(data: bytes) -> SnapshotRecord:
    """Inverse of :func:`encode_snapshot`; raises CorruptRecord on anything else."""
    try:
        fields = msgpack.unpackb(data, raw=False)
    except (ValueError, msgpack.UnpackException) as exc:
        raise CorruptRecord("snapshot is not valid msgpack") from exc
    if not isinstance(fields, list) or len(fields) != 5 or fields[0] != SNAPSHOT_VERSION:
        raise CorruptRecord("snapshot is not a version 1 msgpack array of 5 fields")
    _, room, seq, time_ms, state = fields
    if not (isinstance(room, str) and isinstance(seq, int) and isinstance(time_ms, int) and isinstance(state, bytes)):
        raise CorruptRecord("snapshot fields have the wrong types")
    return SnapshotRecord(RoomId(room), Seq(seq), time_ms, state)


def encode_chunk(records: list[bytes]) -> bytes:
    """Encoded records (each from :func:`encode_record`) of consecutive seqs, as one msgpack array of bin."""
    packed: bytes = msgpack.packb(records, use_bin_type=True)
    return packed


def decode_chunk(data: bytes) -> list[bytes]:
    """Inverse of :func:`encode_chunk`; raises CorruptRecord on anything else."""
    try:
        records = msgpack.unpackb(data, raw=False)
    except (ValueError, msgpack.UnpackException) as exc:
        raise CorruptRecord("archive chunk is not valid msgpack") from exc
    if not isinstance(records, list) or not all(isinstance(r, bytes) for r in records):
        raise CorruptRecord("archive chunk is not a msgpack array of bin")
    return records
