"""The event log: every accepted update, in order, per room; the source of truth."""

from candor.log.base import Entry, EventLog, LogRecord, SnapshotRecord
from candor.log.codec import RECORD_VERSION, decode_record, encode_record

__all__ = [
    "RECORD_VERSION",
    "Entry",
    "EventLog",
    "LogRecord",
    "SnapshotRecord",
    "decode_record",
    "encode_record",
]
