"""The event log: every accepted update, in order, per room; the source of truth.

Interfaces, one per concern: :class:`EventLog` (base.py), :class:`Snapshots`
(snapshots.py), :class:`Redaction` (redaction.py), ``RoomEraser`` (erase.py).
Each backend (sqlite*.py, redis*.py) implements them all on one storage.
"""

from candor.log.base import Entry, EventLog, LogRecord, SnapshotRecord
from candor.log.codec import RECORD_VERSION, decode_record, encode_record
from candor.log.redaction import PurgeableLog, Redaction, UpdateRewrite
from candor.log.snapshots import Snapshots, SnapshottedLog

__all__ = [
    "RECORD_VERSION",
    "Entry",
    "EventLog",
    "LogRecord",
    "PurgeableLog",
    "Redaction",
    "SnapshotRecord",
    "Snapshots",
    "SnapshottedLog",
    "UpdateRewrite",
    "decode_record",
    "encode_record",
]
