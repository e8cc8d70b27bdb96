"""Redaction: rewriting stored updates in place, so what a purge removes is nowhere in storage any more."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Protocol

from candor.ids import RoomId
from candor.log.snapshots import SnapshottedLog

# A function from one stored Yjs update to what it must become (itself when it holds nothing to remove).
UpdateRewrite = Callable[[bytes], bytes]


class Redaction(Protocol):
    """Rewrites the records and snapshots of given rooms, and remembers which notes were purged.

    Errors: as :class:`~candor.log.base.EventLog`; a redaction that failed
    midway leaves every record well-formed and is finished by running it again.
    """

    async def redact(self, rooms: Sequence[RoomId], rewrite: UpdateRewrite, forget: Collection[bytes] = ()) -> int:
        """Replace each record's update and each snapshot's state of ``rooms`` (no other room) by ``rewrite`` of it.

        ``rewrite`` must keep every update well-formed and every item where it
        was (same ids and lengths), so later records still apply. When it
        returns, no copy of a replaced update is left in the backend's files
        (journals included); ``forget`` (filled in by ``rewrite`` as it goes,
        if it likes) names what it removed, for a backend that must look for
        stray copies. Returns the number of records and snapshots rewritten.
        """
        ...

    async def mark_purged(self, room: RoomId, note_ids: Sequence[str], time_ms: int) -> None:
        """Remember that these notes' text was purged (idempotent: a note keeps its first time)."""
        ...

    async def purged_notes(self, room: RoomId) -> dict[str, int]:
        """Note id -> time (ms) of its purge, for every purged note of ``room``."""
        ...


class PurgeableLog(SnapshottedLog, Redaction, Protocol):
    """A log with its snapshots that can also be redacted (every backend is): what a purge and an export use."""
