"""Redaction and erasure in the SQLite file: rows rewritten or deleted so that no copy is left in it or its WAL."""

from __future__ import annotations

import mmap
import sqlite3
from collections.abc import Collection, Sequence
from pathlib import Path

from candor.ids import RoomId
from candor.log.base import LogRecord
from candor.log.codec import decode_record, encode_record
from candor.log.redaction import UpdateRewrite
from candor.log.sqlite_db import SqliteDatabase


def _file_holds(path: Path, needles: Sequence[bytes]) -> bool:
    """Whether any of ``needles`` occurs in the file at ``path``."""
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return any(data.find(needle) >= 0 for needle in needles)


class SqliteRedaction(SqliteDatabase):
    """:class:`~candor.log.redaction.Redaction` and :class:`~candor.log.erase.RoomEraser` over the file."""

    async def redact(self, rooms: Sequence[RoomId], rewrite: UpdateRewrite, forget: Collection[bytes] = ()) -> int:
        if not rooms:
            return 0
        marks = ",".join("?" * len(rooms))

        def job(conn: sqlite3.Connection) -> int:
            # Freed and overwritten pages are zeroed, not left behind in the file.
            conn.execute("PRAGMA secure_delete = ON")
            changed = 0
            rows = conn.execute(f"SELECT record FROM log WHERE room IN ({marks})", tuple(rooms)).fetchall()
            for (blob,) in rows:
                record = decode_record(blob)
                update = rewrite(record.update)
                if update != record.update:
                    scrubbed = encode_record(LogRecord(record.room, record.seq, record.time_ms, record.origin, update))
                    conn.execute(
                        "UPDATE log SET record = ? WHERE room = ? AND seq = ?", (scrubbed, record.room, record.seq)
                    )
                    changed += 1
            snapshots = conn.execute(f"SELECT room, seq, state FROM snapshots WHERE room IN ({marks})", tuple(rooms))
            for room, seq, state in snapshots.fetchall():
                scrubbed = rewrite(state)
                if scrubbed != state:
                    conn.execute("UPDATE snapshots SET state = ? WHERE room = ? AND seq = ?", (scrubbed, room, seq))
                    changed += 1
            return changed

        changed: int = await self._write(job)
        # An interior page of the b-tree may keep a whole row it was rewritten out of as a divider: when
        # what was removed is still found in the file, it is rebuilt (other rooms' writes wait meanwhile).
        await self._leave_no_copy(list(forget))
        return changed

    async def erase_rooms(self, rooms: Sequence[RoomId]) -> int:
        """Delete the rooms' rows with secure_delete on, then empty the WAL (see ``RoomEraser``)."""
        if not rooms:
            return 0
        marks = ",".join("?" * len(rooms))

        def job(conn: sqlite3.Connection) -> int:
            # Freed pages and cells are zeroed, not left behind in the file.
            conn.execute("PRAGMA secure_delete = ON")
            held = conn.execute(f"SELECT COUNT(DISTINCT room) FROM log WHERE room IN ({marks})", tuple(rooms))
            count = int(held.fetchone()[0])
            for table in ("log", "snapshots", "purged_notes"):
                conn.execute(f"DELETE FROM {table} WHERE room IN ({marks})", tuple(rooms))
            for room in rooms:
                self._heads.pop(room, None)
            return count

        erased: int = await self._write(job)
        # Deleted rows are zeroed, but an interior page of the b-tree may keep a deleted key (the whole
        # row, in a WITHOUT ROWID table) as the divider between two of its children. Every key starts with
        # its room's name, so a name found nowhere in the file means no such copy is left; otherwise the
        # file is rebuilt (other rooms' writes wait meanwhile, for as long as that takes).
        await self._leave_no_copy([room.encode() for room in rooms])
        return erased

    async def _leave_no_copy(self, needles: list[bytes]) -> None:
        """Empty the WAL; when any of ``needles`` is still found in the file, rebuild it (VACUUM) and empty it again."""
        await self._empty_wal()
        if not needles:
            return
        stray: bool = await self._read(lambda _: _file_holds(self.path, needles))
        if stray:
            await self._read(lambda conn: conn.execute("VACUUM"))
            await self._empty_wal()

    async def mark_purged(self, room: RoomId, note_ids: Sequence[str], time_ms: int) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR IGNORE INTO purged_notes (room, note_id, purged_ms) VALUES (?, ?, ?)",
                [(room, note_id, time_ms) for note_id in note_ids],
            )

        await self._write(job)

    async def purged_notes(self, room: RoomId) -> dict[str, int]:
        def q(conn: sqlite3.Connection) -> dict[str, int]:
            rows = conn.execute("SELECT note_id, purged_ms FROM purged_notes WHERE room = ?", (room,))
            return {row[0]: row[1] for row in rows}

        return await self._read(q)
