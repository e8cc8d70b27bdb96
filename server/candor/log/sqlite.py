"""The embedded default backend: the event log in one SQLite (WAL) file, with its snapshots and redaction beside it.

The log's own part is here (:class:`~candor.log.base.EventLog`); the file and
its group commit are in ``sqlite_db.py``, snapshots in ``sqlite_snapshots.py``,
redaction and erasure in ``sqlite_redaction.py``.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Sequence

from candor.errors import LogConflict, LogUnavailable
from candor.ids import RoomId, Seq
from candor.log.base import Entry, LogRecord, numbered
from candor.log.codec import decode_record, encode_record
from candor.log.sqlite_db import DURABILITY, DURABILITY_MACHINE, DURABILITY_PROCESS
from candor.log.sqlite_redaction import SqliteRedaction
from candor.log.sqlite_snapshots import SqliteSnapshots

__all__ = ["DURABILITY", "DURABILITY_MACHINE", "DURABILITY_PROCESS", "SqliteLog"]


def _last_record(conn: sqlite3.Connection, room: RoomId) -> tuple[int, int]:
    """(seq, time_ms) of the room's last record; (0, 0) when it has none."""
    row = conn.execute("SELECT seq, time_ms FROM log WHERE room = ? ORDER BY seq DESC LIMIT 1", (room,)).fetchone()
    return (row[0], row[1]) if row is not None else (0, 0)


def _time_of(conn: sqlite3.Connection, room: RoomId, seq: int) -> int:
    row = conn.execute("SELECT time_ms FROM log WHERE room = ? AND seq = ?", (room, seq)).fetchone()
    if row is None:
        raise LogUnavailable(f"room {room} has no record {seq} below its head")
    return int(row[0])


class SqliteLog(SqliteSnapshots, SqliteRedaction):
    """One file, WAL mode, one write (and with ``machine`` one fsync) per group commit.

    ``SqliteLog(path, durability)`` opens the file; :meth:`close` finishes the writes and releases it.
    """

    async def append(self, room: RoomId, entries: Sequence[Entry], expect_head: Seq | None = None) -> list[LogRecord]:
        def insert(conn: sqlite3.Connection, head: int, clock: int) -> list[LogRecord]:
            records = numbered(room, entries, head, clock)
            conn.executemany(
                "INSERT INTO log (room, seq, time_ms, record) VALUES (?, ?, ?, ?)",
                [(r.room, r.seq, r.time_ms, encode_record(r)) for r in records],
            )
            if records:
                self._heads[room] = (records[-1].seq, records[-1].time_ms)
            return records

        def job(conn: sqlite3.Connection) -> list[LogRecord]:
            # A conditional append (a room's first records) asks the file itself, never the cache.
            known = self._heads.get(room) if expect_head is None else None
            if known is not None:
                try:
                    return insert(conn, *known)
                except sqlite3.IntegrityError:
                    # Another process appended to the room since. Seqs have no gaps, so the first
                    # record was the one refused and nothing of this append is stored yet.
                    del self._heads[room]
            head, clock = _last_record(conn, room)
            if expect_head is not None and head != expect_head:
                raise LogConflict(f"room {room} is at seq {head}, not {expect_head}")
            return insert(conn, head, clock)

        if not entries and expect_head is None:
            return []
        records: list[LogRecord] = await self._write(job, inline=True)
        return records

    async def head(self, room: RoomId) -> Seq:
        return await self._read(lambda conn: Seq(_last_record(conn, room)[0]))

    async def read(self, room: RoomId, after: Seq, upto: Seq | None = None) -> list[LogRecord]:
        limit = upto if upto is not None else 2**62

        def q(conn: sqlite3.Connection) -> list[LogRecord]:
            cur = conn.execute(
                "SELECT record FROM log WHERE room = ? AND seq > ? AND seq <= ? ORDER BY seq",
                (room, after, limit),
            )
            return [decode_record(row[0]) for row in cur]

        return await self._read(q)

    async def seq_at_time(self, room: RoomId, time_ms: int) -> Seq:
        def q(conn: sqlite3.Connection) -> Seq:
            head, _ = _last_record(conn, room)
            # Records 1..head in order of time (they never go backwards): how many are not after it.
            return Seq(bisect.bisect_right(range(1, head + 1), time_ms, key=lambda seq: _time_of(conn, room, seq)))

        return await self._read(q)

    async def rooms(self) -> list[RoomId]:
        def q(conn: sqlite3.Connection) -> list[RoomId]:
            return [RoomId(r[0]) for r in conn.execute("SELECT DISTINCT room FROM log ORDER BY room")]

        return await self._read(q)
