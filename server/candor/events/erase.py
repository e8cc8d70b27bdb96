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

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from candor.errors import EventNotFound, RoomNotFound
from candor.events.reveal import split_drafts_room
from candor.events.store import EventEraser, EventStore
from candor.ids import RoomId
from candor.log.base import PurgeableLog
from candor.log.erase import RoomEraser
from candor.rooms.registry import RoomRegistry

logger = logging.getLogger("candor.erase")

ERASED_REASON = "the facilitator erased this event: its boards no longer exist"

# Close these rooms' connections and keep the rooms unloaded on this process while the block runs.
Hold = Callable[[Sequence[str]], AbstractAsyncContextManager[None]]


class RoomControls(Protocol):
    """Carries "let go of these rooms" to every process that serves boards."""

    async def start(self) -> None:
        """Start listening for the other processes' requests; runs until :meth:`close`."""
        ...

    def held(self, rooms: Sequence[str]) -> AbstractAsyncContextManager[int]:
        """Every process (this one included) holds ``rooms`` (see :data:`Hold`) until the block ends.

        Entering waits until each process that serves boards says it holds
        them, and yields how many do; :class:`~candor.errors.LogUnavailable`
        when one does not answer in time (nothing is held then).
        """
        ...

    async def close(self) -> None: ...


class LocalControls:
    """The controls of a process that shares its storage with no other (SQLite)."""

    def __init__(self, hold: Hold) -> None:
        self._hold = hold

    async def start(self) -> None:
        return None

    @contextlib.asynccontextmanager
    async def held(self, rooms: Sequence[str]) -> AsyncIterator[int]:
        async with self._hold(rooms):
            yield 1

    async def close(self) -> None:
        return None


def room_hold(registry: RoomRegistry) -> Hold:
    """How this process holds rooms: their connections (drafts rooms' too) closed with 4404, loads paused."""

    @contextlib.asynccontextmanager
    async def hold(rooms: Sequence[str]) -> AsyncIterator[None]:
        def chosen(room: str) -> bool:
            drafts = split_drafts_room(room)
            return room in names or (drafts is not None and drafts[0] in names)

        names = set(rooms)
        registry.close_peers(lambda room, _: chosen(room), RoomNotFound(ERASED_REASON))
        loaded = {room for room in registry.rooms if chosen(room)}
        async with registry.paused([RoomId(room) for room in sorted(names | loaded)], ERASED_REASON):
            yield

    return hold


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
        async with self.controls.held(rooms) as processes:
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
