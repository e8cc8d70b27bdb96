"""Snapshots in the SQLite file: the ``snapshots`` table, every one kept (:class:`~candor.log.snapshots.Snapshots`)."""

from __future__ import annotations

import sqlite3

from candor.ids import RoomId, Seq
from candor.log.base import SnapshotRecord
from candor.log.sqlite_db import SqliteDatabase


class SqliteSnapshots(SqliteDatabase):
    """Snapshots share the log's group commit: one written as a room compacts costs no extra transaction."""

    async def write_snapshot(self, snapshot: SnapshotRecord) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO snapshots (room, seq, time_ms, state) VALUES (?, ?, ?, ?)",
                (snapshot.room, snapshot.seq, snapshot.time_ms, snapshot.state),
            )

        await self._write(job, inline=True)

    async def latest_snapshot(self, room: RoomId, at_or_before: Seq | None = None) -> SnapshotRecord | None:
        limit = at_or_before if at_or_before is not None else 2**62

        def q(conn: sqlite3.Connection) -> SnapshotRecord | None:
            row = conn.execute(
                "SELECT seq, time_ms, state FROM snapshots WHERE room = ? AND seq <= ? ORDER BY seq DESC LIMIT 1",
                (room, limit),
            ).fetchone()
            if row is None:
                return None
            return SnapshotRecord(room, Seq(row[0]), row[1], row[2])

        return await self._read(q)
