"""Events and their rooms: the store's interface, and its SQLite form beside the event log (``events.sqlite3``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from candor.errors import LogUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    template TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    join_code TEXT NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rooms_event ON rooms (event_id, position);
"""
# Added after the first release: files made before it gain the column when opened.
DETAILS_COLUMN = "ALTER TABLE events ADD COLUMN details TEXT NOT NULL DEFAULT '{}'"


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: str
    title: str
    template: dict[str, Any]  # the template as JSON, frozen at creation
    created_ms: int
    join_code: str
    epoch: int


@dataclass(frozen=True, slots=True)
class RoomRecord:
    id: str
    event_id: str
    kind: str  # "breakout" | "plenary"
    label: str
    position: int


class EventStore(Protocol):
    """Where events and their rooms are kept; failures raise :class:`~candor.errors.LogUnavailable`."""

    async def create(self, event: EventRecord, rooms: list[RoomRecord]) -> None:
        """Store a new event with its rooms."""
        ...

    async def event(self, event_id: str) -> EventRecord | None: ...

    async def room(self, room_id: str) -> RoomRecord | None: ...

    async def rooms(self, event_id: str) -> list[RoomRecord]:
        """The event's rooms by position."""
        ...

    async def add_room(self, room: RoomRecord) -> None: ...

    async def rename_room(self, room_id: str, label: str) -> None: ...

    async def event_by_code(self, join_code: str) -> str | None:
        """The id of the event whose current join code this is."""
        ...

    async def bump_epoch(self, event_id: str, join_code: str) -> int:
        """Revoke earlier participant links: a new epoch and join code; returns the new epoch."""
        ...

    async def event_ids(self) -> list[str]:
        """Every event's id, sorted."""
        ...

    async def details(self, event_id: str) -> dict[str, Any]:
        """The facilitator's details of the event as JSON (see events/details.py); ``{}`` when none were set."""
        ...

    async def set_details(self, event_id: str, details: dict[str, Any]) -> None:
        """Replace the event's details."""
        ...

    async def close(self) -> None: ...


class EventEraser(Protocol):
    """Deletes an event, so that nothing of it is left in the store's files."""

    async def erase_event(self, event_id: str) -> bool:
        """Delete the event, its rooms and its join code; False when there was no such event.

        When it returns, no byte of them (title, template, labels, code, epoch)
        is left in the store's files; with the event its epoch is gone, so no
        token issued for it is accepted again. Idempotent.
        """
        ...


class SqliteEventStore:
    """Small, rarely written tables; each call runs on a worker thread under one lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        # Deleted rows are zeroed in the file, not left on free pages (see erase_event).
        self._conn.execute("PRAGMA secure_delete = ON")
        self._conn.executescript(SCHEMA)
        self._add_details_column()
        self._lock = threading.Lock()

    def _add_details_column(self) -> None:
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(events)")}
        if "details" not in columns:
            try:
                self._conn.execute(DETAILS_COLUMN)
            except sqlite3.OperationalError as exc:  # another process added it a moment ago
                if "duplicate column" not in str(exc):
                    raise LogUnavailable(f"the event store failed: {exc}") from exc

    async def _run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        def run() -> list[tuple[Any, ...]]:
            with self._lock:
                try:
                    return self._conn.execute(sql, params).fetchall()
                except sqlite3.Error as exc:
                    raise LogUnavailable(f"the event store failed: {exc}") from exc

        return await asyncio.to_thread(run)

    async def create(self, event: EventRecord, rooms: list[RoomRecord]) -> None:
        def run() -> None:
            with self._lock:
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._conn.execute(
                        "INSERT INTO events (id, title, template, created_ms, join_code, epoch) VALUES (?,?,?,?,?,?)",
                        (event.id, event.title, json.dumps(event.template), event.created_ms, event.join_code, 0),
                    )
                    self._conn.executemany(
                        "INSERT INTO rooms (id, event_id, kind, label, position) VALUES (?,?,?,?,?)",
                        [(r.id, r.event_id, r.kind, r.label, r.position) for r in rooms],
                    )
                    self._conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                    raise LogUnavailable(f"the event store failed: {exc}") from exc

        await asyncio.to_thread(run)

    async def event(self, event_id: str) -> EventRecord | None:
        rows = await self._run(
            "SELECT id, title, template, created_ms, join_code, epoch FROM events WHERE id = ?", event_id
        )
        if not rows:
            return None
        row = rows[0]
        return EventRecord(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5])

    async def room(self, room_id: str) -> RoomRecord | None:
        rows = await self._run("SELECT id, event_id, kind, label, position FROM rooms WHERE id = ?", room_id)
        return RoomRecord(*rows[0]) if rows else None

    async def rooms(self, event_id: str) -> list[RoomRecord]:
        rows = await self._run(
            "SELECT id, event_id, kind, label, position FROM rooms WHERE event_id = ? ORDER BY position", event_id
        )
        return [RoomRecord(*row) for row in rows]

    async def add_room(self, room: RoomRecord) -> None:
        await self._run(
            "INSERT INTO rooms (id, event_id, kind, label, position) VALUES (?,?,?,?,?)",
            room.id, room.event_id, room.kind, room.label, room.position,
        )  # fmt: skip

    async def rename_room(self, room_id: str, label: str) -> None:
        await self._run("UPDATE rooms SET label = ? WHERE id = ?", label, room_id)

    async def event_by_code(self, join_code: str) -> str | None:
        rows = await self._run("SELECT id FROM events WHERE join_code = ?", join_code)
        return str(rows[0][0]) if rows else None

    async def bump_epoch(self, event_id: str, join_code: str) -> int:
        await self._run("UPDATE events SET epoch = epoch + 1, join_code = ? WHERE id = ?", join_code, event_id)
        rows = await self._run("SELECT epoch FROM events WHERE id = ?", event_id)
        return int(rows[0][0])

    async def event_ids(self) -> list[str]:
        return [str(row[0]) for row in await self._run("SELECT id FROM events ORDER BY id")]

    async def erase_event(self, event_id: str) -> bool:
        def run() -> bool:
            with self._lock:
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._conn.execute("DELETE FROM rooms WHERE event_id = ?", (event_id,))
                    found = self._conn.execute("DELETE FROM events WHERE id = ?", (event_id,)).rowcount > 0
                    self._conn.execute("COMMIT")
                    # Deleted rows are zeroed, but an index's interior page may keep a deleted key (an event
                    # or room id) as a divider: the small file is rebuilt. Then the WAL, which held the old
                    # pages, is emptied into it.
                    self._conn.execute("VACUUM")
                    busy, _, _ = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                except sqlite3.Error as exc:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                    raise LogUnavailable(f"the event store failed: {exc}") from exc
                if busy:
                    raise LogUnavailable("the event store's journal could not be emptied; erase again")
                return found

        return await asyncio.to_thread(run)

    async def details(self, event_id: str) -> dict[str, Any]:
        rows = await self._run("SELECT details FROM events WHERE id = ?", event_id)
        found = json.loads(rows[0][0]) if rows else {}
        return found if isinstance(found, dict) else {}

    async def set_details(self, event_id: str, details: dict[str, Any]) -> None:
        await self._run("UPDATE events SET details = ? WHERE id = ?", json.dumps(details), event_id)

    async def close(self) -> None:
        with self._lock:
            self._conn.close()
