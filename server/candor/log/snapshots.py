"""Snapshots of a room's document: the interface beside the event log that makes loading a room fast."""

from __future__ import annotations

from typing import Protocol

from candor.ids import RoomId, Seq
from candor.log.base import EventLog, SnapshotRecord


class Snapshots(Protocol):
    """Every snapshot of every room, kept (any past state is rebuilt from the nearest one below it).

    Errors: as :class:`~candor.log.base.EventLog` (``LogUnavailable``, ``CorruptRecord``).
    """

    async def write_snapshot(self, snapshot: SnapshotRecord) -> None:
        """Store a snapshot; writing the same ``(room, seq)`` twice keeps the first (idempotent).

        A backend shared by several processes may raise
        :class:`~candor.errors.RoomOutdated` when a purge rewrote the room since
        this process loaded it: the snapshot would bring back what was purged.
        """
        ...

    async def latest_snapshot(self, room: RoomId, at_or_before: Seq | None = None) -> SnapshotRecord | None:
        """The snapshot with the highest ``seq`` not above ``at_or_before`` (any seq when None); None if there is none.

        Called without ``at_or_before``, it is a room being loaded.
        """
        ...


class SnapshottedLog(EventLog, Snapshots, Protocol):
    """A log and its snapshots, as one backend keeps them: what loading or rebuilding a room reads."""
