"""Log record values and the interface every log backend implements."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
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


# A function from one stored Yjs update to what it must become (itself when it holds nothing to remove).
UpdateRewrite = Callable[[bytes], bytes]


class EventLog(Protocol):
    """Append-only, per-room ordered storage of updates plus snapshots.

    Ordering: ``seq`` is the only order; records of one room are numbered
    1, 2, 3, ... without gaps, and reads return them by ascending ``seq``.
    The log assigns ``seq`` when it appends, so several writers (processes
    sharing one log) may append to the same room. Durability: when
    :meth:`append` returns, the records survive a crash of the process.
    Driver failures raise :class:`~candor.errors.LogUnavailable`.
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

    async def write_snapshot(self, snapshot: SnapshotRecord) -> None:
        """Store a snapshot; writing the same ``(room, seq)`` twice keeps one."""
        ...

    async def latest_snapshot(self, room: RoomId, at_or_before: Seq | None = None) -> SnapshotRecord | None:
        """The snapshot with the highest ``seq`` not above ``at_or_before``."""
        ...

    async def rooms(self) -> list[RoomId]:
        """Every room that has at least one record, sorted by name."""
        ...

    async def close(self) -> None:
        """Finish pending writes and release the storage."""
        ...


class Redactor(Protocol):
    """Rewrites stored updates in place, so that what a purge removes is nowhere in storage any more."""

    async def redact(self, rooms: Sequence[RoomId], rewrite: UpdateRewrite, forget: Collection[bytes] = ()) -> int:
        """Replace each record's update and each snapshot's state of ``rooms`` by ``rewrite`` of it.

        ``rewrite`` must keep every update well-formed and every item where it
        was (same ids and lengths), so later records still apply. When it
        returns, no copy of a replaced update is left in the backend's files
        (journals included); ``forget`` (filled in by ``rewrite`` as it goes,
        if it likes) names what it removed, for a backend that must look for
        stray copies. Returns the number of records and snapshots rewritten.
        """
        ...

    async def mark_purged(self, room: RoomId, note_ids: Sequence[str], time_ms: int) -> None:
        """Remember that these notes' text was purged (idempotent)."""
        ...

    async def purged_notes(self, room: RoomId) -> dict[str, int]:
        """Note id -> time (ms) of its purge, for every purged note of ``room``."""
        ...


class PurgeableLog(EventLog, Redactor, Protocol):
    """An event log that can also be redacted (every backend is)."""
