"""Erasing an event: its rooms, drafts rooms, records, snapshots, tokens and join code leave storage for good.

The order keeps anything from being written back. Every process serving
boards (this one included) first closes the connections of the event's rooms
(4404) and keeps the rooms unloaded (a loaded room would write a snapshot of
what it holds when it is evicted); only then are the rooms erased from the
log, the event from the store, and the log looked at again for a drafts room
made meanwhile. Joins waiting for the rooms then find no event (4404). Each
step is idempotent, so an erasure cut short (a crash, Redis down) is finished
by erasing again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from candor.errors import EventNotFound
from candor.ids import RoomId
from candor.log.erase import RoomEraser
from candor.log.redaction import PurgeableLog
from candor.workshops.controls import RoomControls
from candor.workshops.reveal import split_drafts_room
from candor.workshops.store import EventEraser, EventStore

logger = logging.getLogger("candor.erase")


class ErasableLog(PurgeableLog, RoomEraser, Protocol):
    """A log backend that can also erase rooms (every backend)."""


class ErasableStore(EventStore, EventEraser, Protocol):
    """An event store that can also erase events (every backend)."""


@dataclass(frozen=True, slots=True)
class Erased:
    event_id: str
    rooms: int  # rooms (drafts rooms included) that held records
    processes: int  # processes that let go of the rooms


class Eraser:
    """Erases events on request (DELETE /api/events/{id}) and when their retention runs out."""

    def __init__(self, store: ErasableStore, log: ErasableLog, controls: RoomControls) -> None:
        self.store = store
        self.log = log
        self.controls = controls

    async def erase(self, event_id: str) -> Erased:
        """Erase the event; EventNotFound when the store has no such event (erased already, or never made)."""
        rooms = [room.id for room in await self.store.rooms(event_id)]
        if await self.store.event(event_id) is None:
            raise EventNotFound(f"no event {event_id!r}")
        async with self.controls.held(rooms, "erase") as processes:
            erased = await self.log.erase_rooms(sorted({*map(RoomId, rooms), *await self._drafts_rooms(rooms)}))
            await self.store.erase_event(event_id)
            # A drafts room its owner opened before the event was gone from the store.
            erased += await self.log.erase_rooms(await self._drafts_rooms(rooms, include_boards=True))
        logger.info("event %s erased: %d rooms", event_id, erased, extra={"count": erased})
        return Erased(event_id, erased, processes)

    async def _drafts_rooms(self, rooms: list[str], include_boards: bool = False) -> list[RoomId]:
        """The drafts rooms of ``rooms`` that the log holds (and ``rooms`` themselves if it holds them)."""
        names = set(rooms)

        def belongs(room: str) -> bool:
            drafts = split_drafts_room(room)
            return (drafts is not None and drafts[0] in names) or (include_boards and room in names)

        return [room for room in await self.log.rooms() if belongs(room)]
