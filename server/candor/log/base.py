"""Log record values and the interface every log backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from candor.ids import PeerId, RoomId, Seq


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One accepted Yjs update: the room's ``seq``-th change."""

    room: RoomId
    seq: Seq
    time_ms: int
    origin: PeerId
    update: bytes


@dataclass(frozen=True, slots=True)
class Entry:
    """An update to append; the log gives it its ``seq``."""

    time_ms: int
    origin: PeerId
    update: bytes


def numbered(room: RoomId, entries: Sequence[Entry], head: int, clock: int) -> list[LogRecord]:
    """Records head+1... with times clamped never to go back before ``clock`` or each other.

    Every backend numbers and clamps the same way, so a room's record times
    never go backwards (clocks of several processes differ, and a clock can be
    set back) and the record at a point in time can be found by bisection.
    """
    records = []
    last = clock
    for offset, entry in enumerate(entries, 1):
        last = max(last, entry.time_ms)
        records.append(LogRecord(room, Seq(head + offset), last, entry.origin, entry.update))
    return records


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    """The room's full document state after applying records ``1..seq``."""

    room: RoomId
    seq: Seq
    time_ms: int
    state: bytes


class EventLog(Protocol):
    """Append-only, per-room ordered storage of updates; only that (snapshots and redaction: their own interfaces).

    Ordering: ``seq`` is the only order; records of one room are numbered
    1, 2, 3, ... without gaps, and reads return them by ascending ``seq``.
    The log assigns ``seq`` when it appends, so several writers (processes
    sharing one log) may append to the same room. Durability: when
    :meth:`append` returns, the records survive a crash of the process.
    Errors: driver failures raise :class:`~candor.errors.LogUnavailable`; a
    stored record that cannot be decoded raises :class:`~candor.errors.CorruptRecord`.
    Both are :class:`~candor.errors.StorageError`.
    """

    async def append(self, room: RoomId, entries: Sequence[Entry], expect_head: Seq | None = None) -> list[LogRecord]:
        """Store ``entries`` durably and atomically (all or none) after the room's last record.

        With ``expect_head``, the append happens only if the room's head is
        exactly that; otherwise :class:`~candor.errors.LogConflict` is raised
        and nothing is stored (how a room is initialised exactly once).
        Returns the stored records, with their seqs, in order.
        """
        ...

    async def head(self, room: RoomId) -> Seq:
        """The highest stored ``seq`` of ``room``; 0 when it has no record."""
        ...

    async def read(self, room: RoomId, after: Seq, upto: Seq | None = None) -> list[LogRecord]:
        """Records with ``after < seq <= upto`` (all later ones when ``upto`` is None)."""
        ...

    async def seq_at_time(self, room: RoomId, time_ms: int) -> Seq:
        """The highest ``seq`` whose record was accepted at or before ``time_ms``."""
        ...

    async def rooms(self) -> list[RoomId]:
        """Every room that has at least one record, sorted by name."""
        ...

    async def close(self) -> None:
        """Finish pending writes and release the storage (idempotent); later calls raise LogUnavailable."""
        ...
