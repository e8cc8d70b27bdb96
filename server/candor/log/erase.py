"""Erasing rooms from a log backend: the interface each backend implements beside :class:`~candor.log.base.EventLog`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from candor.ids import RoomId


class RoomEraser(Protocol):
    """Deletes whole rooms, so that nothing of them is left in the backend's files."""

    async def erase_rooms(self, rooms: Sequence[RoomId]) -> int:
        """Delete every record, snapshot and purge mark of ``rooms``; how many of the rooms held any.

        When it returns, no byte of what the rooms held is left in the
        backend's files (SQLite: deleted pages zeroed and the WAL emptied;
        Redis: keys deleted and the append-only file rewritten), and the rooms
        are no longer listed by :meth:`~candor.log.base.EventLog.rooms`.
        Idempotent: erasing a room that holds nothing does nothing. The caller
        makes sure nobody writes to the rooms meanwhile. Driver failures raise
        :class:`~candor.errors.LogUnavailable`; a retry finishes the job.
        """
        ...
