"""Loads each room once on first join, hands it to its peers, and evicts it when idle.

With several processes, a room subscribes to the broker before it reads the
log, so what other processes append meanwhile is delivered and what the read
already holds is skipped; an unloaded room is unsubscribed. Whether a room is
an event's board (gated) or free-form is decided here, from its name alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from pycrdt import Doc

from candor.broker.base import Broker
from candor.broker.local import LocalBroker
from candor.errors import CandorError, InvalidUpdate, LogUnavailable, RoomClosing
from candor.ids import Access, RoomId, Seq, is_event_room
from candor.log.base import LogRecord
from candor.log.snapshots import SnapshottedLog
from candor.metrics import Metrics
from candor.rooms.heap import HeapTrimmer
from candor.rooms.loading import load_room
from candor.rooms.peer import Peer
from candor.rooms.room import Room, RoomSettings

logger = logging.getLogger("candor.registry")

# Awareness updates kept for a room still loading; later ones are dropped (clients renew theirs).
MAX_EARLY_AWARENESS = 64
T = TypeVar("T")


class _Inbound:
    """What the broker delivers for a room: kept while the room loads, passed on once it runs."""

    def __init__(self) -> None:
        self.room: Room | None = None
        self._records: list[LogRecord] = []
        self._awareness: list[bytes] = []

    def records(self, records: list[LogRecord]) -> None:
        if self.room is None:
            self._records.extend(records)
        else:
            self.room.receive_logged(records)

    def awareness(self, payload: bytes) -> None:
        if self.room is not None:
            self.room.receive_remote_awareness(payload)
        elif len(self._awareness) < MAX_EARLY_AWARENESS:
            self._awareness.append(payload)

    def local_awareness(self) -> bytes | None:
        return self.room.local_awareness() if self.room is not None else None

    def bind(self, room: Room) -> None:
        """From now on deliver to ``room``, starting with what arrived while it loaded."""
        self.room = room
        if self._records:
            room.receive_logged(self._records)
        for payload in self._awareness:
            room.receive_remote_awareness(payload)
        self._records, self._awareness = [], []


@dataclass(frozen=True, slots=True)
class _Load:
    """A load in progress: its task (in the registry's group) and the room it gives every joiner waiting."""

    task: asyncio.Task[None]
    room: asyncio.Future[Room]


class RoomRegistry:
    """Owns every loaded room and every load in progress.

    Use it as an async context manager: loads, room writers and the heap
    trimmer are tasks of the registry's task group, entered with it; leaving
    flushes and snapshots every room and waits for all of them.

    Many peers joining a cold room at once share one load task, so the
    snapshot and log are read exactly once. A room is evicted only from its
    own writer, and only when it has no peer at that instant; a join after
    that loads a fresh copy from the log. An event's room (:func:`candor.ids.is_event_room`)
    is a board, whose updates pass its gate; any other room is free-form.
    """

    def __init__(
        self,
        log: SnapshottedLog,
        settings: RoomSettings,
        on_collect_ended: Callable[[RoomId], None] | None = None,
        metrics: Metrics | None = None,
        broker: Broker | None = None,
    ) -> None:
        self.log = log
        self.settings = settings
        self.broker: Broker = broker or LocalBroker()
        self.metrics = metrics or Metrics()
        self.metrics.watch(lambda: len(self.rooms), lambda: sum(len(room.peers) for room in self.rooms.values()))
        self._on_collect_ended = on_collect_ended
        self.rooms: dict[RoomId, Room] = {}
        self.loads = 0
        self._loading: dict[RoomId, _Load] = {}
        self._paused: dict[RoomId, asyncio.Event] = {}
        self._closing = False
        self._tasks = asyncio.TaskGroup()
        self._heap = HeapTrimmer(self.metrics.heap_trims.inc)
        self._trimming: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RoomRegistry:
        await self._tasks.__aenter__()
        self._trimming = self._tasks.create_task(self._heap.run(), name="heap-trim")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.close()
        finally:
            await self._tasks.__aexit__(exc_type, exc, tb)

    async def join(self, room_id: RoomId, peer: Peer) -> Room:
        """The loaded room, with ``peer`` attached to it."""
        while True:
            room = await self._loaded(room_id)
            if not room.closed and self.rooms.get(room_id) is room:
                room.attach(peer)
                return room

    async def submit(self, room_id: RoomId, change: bytes | Callable[[Doc[Any]], None], access: Access) -> Seq | None:
        """Apply a server-made update to a room (loading it if needed) once it is logged."""
        while True:
            room = await self._loaded(room_id)
            if not room.closed and self.rooms.get(room_id) is room:
                return await room.submit(change, access)

    async def read(self, room_id: RoomId, read: Callable[[Doc[Any]], T]) -> T | None:
        """``read(doc)`` run by the room's writer if the room is loaded here; None if not (read its log instead)."""
        room = self.rooms.get(room_id)
        if room is None or room.closed:
            return None
        try:
            return await room.read(read)
        except RoomClosing:  # it stopped first: all it held is in the log
            return None

    async def _loaded(self, room_id: RoomId) -> Room:
        while (paused := self._paused.get(room_id)) is not None:
            await paused.wait()
        if self._closing:
            raise LogUnavailable("the server is shutting down")
        room = self.rooms.get(room_id)
        if room is not None and not room.closed:
            return room
        if room is not None:  # a room that stopped without leaving: never hand it out again
            del self.rooms[room_id]
            self.broker.unsubscribe(room_id)
        load = self._loading.get(room_id)
        if load is None:
            result: asyncio.Future[Room] = asyncio.get_running_loop().create_future()
            task = self._tasks.create_task(self._load(room_id, result), name=f"load:{room_id}")
            load = self._loading[room_id] = _Load(task, result)
        # One joiner giving up must not cancel the load the others wait for.
        return await asyncio.shield(load.room)

    async def _load(self, room_id: RoomId, result: asyncio.Future[Room]) -> None:
        """Load and start a room; its joiners get it, or the error, through ``result`` (never the task group)."""
        try:
            room = await self._open(room_id)
            if not result.done():
                result.set_result(room)
        except asyncio.CancelledError:
            result.cancel()
            raise
        except Exception as exc:  # the joiners' to handle (and log): a failed load is no failure of the registry
            if not result.done():
                result.set_exception(exc)
        finally:
            del self._loading[room_id]

    async def _open(self, room_id: RoomId) -> Room:
        inbound = _Inbound()
        await self.broker.subscribe(room_id, inbound.records, inbound.awareness, inbound.local_awareness)
        try:
            loaded = await load_room(
                self.log, room_id, board=is_event_room(room_id), max_board_bytes=self.settings.max_board_bytes
            )
            if loaded.refused:
                self.metrics.refused_records.inc(loaded.refused)
            room = Room(
                loaded,
                log=self.log,
                settings=self.settings,
                metrics=self.metrics,
                evict=self._evict,
                on_collect_ended=self._on_collect_ended,
                publish_awareness=functools.partial(self.broker.publish_awareness, room_id),
            )
            inbound.bind(room)
            room.start(self._tasks).add_done_callback(self._stopped)
            self.rooms[room_id] = room
            self.loads += 1
            self.metrics.room_loads.inc()
            logger.info(
                "room %s loaded at seq %d (%d records after snapshot)",
                room_id,
                loaded.head,
                loaded.records_read,
                extra={"room": room_id, "seq": loaded.head, "count": loaded.records_read},
            )
            return room
        except ValueError as exc:
            self.broker.unsubscribe(room_id)
            raise InvalidUpdate(f"room {room_id} has an unreadable record: {exc}") from exc
        except BaseException:
            self.broker.unsubscribe(room_id)
            raise

    def _evict(self, room: Room, force: bool) -> bool:
        """Called by the room's writer; True when it may shut down.

        Unforced, it refuses while any peer is attached: the check and the
        removal happen in one step of the event loop, so no join slips between.
        """
        if room.peers and not force:
            return False
        if self.rooms.get(room.id) is room:
            del self.rooms[room.id]
            self.broker.unsubscribe(room.id)
        return True

    def _stopped(self, writer: asyncio.Task[None]) -> None:
        """A room's writer ended: its document is freed (once its last connections let go)."""
        if not self._closing:
            self._heap.room_freed()

    @contextlib.asynccontextmanager
    async def paused(self, room_ids: list[RoomId], error: CandorError) -> AsyncIterator[None]:
        """Unload these rooms and keep them unloaded while the block runs (storage surgery).

        Their peers are closed with ``error``; joins wait until the block ends.
        """
        gates = {room_id: asyncio.Event() for room_id in room_ids if room_id not in self._paused}
        self._paused.update(gates)
        try:
            for room_id in gates:
                loading = self._loading.get(room_id)
                if loading is not None:
                    await asyncio.gather(loading.room, return_exceptions=True)
                room = self.rooms.pop(room_id, None)
                if room is not None:
                    self.broker.unsubscribe(room_id)
                    await room.close(error)
            yield
        finally:
            for room_id, gate in gates.items():
                del self._paused[room_id]
                gate.set()

    def close_peers(self, which: Callable[[RoomId, Access], bool], error: CandorError) -> int:
        """Close every connection of this process that ``which(room, access)`` selects; how many."""
        closed = 0
        for room in list(self.rooms.values()):
            for peer in list(room.peers):
                if which(room.id, peer.access):
                    peer.fail(error)
                    closed += 1
        return closed

    def leave(self, room: Room, peer: Peer) -> None:
        room.detach(peer)

    async def close(self) -> None:
        """Stop accepting joins, flush and snapshot every room; leaving the context then waits for every task."""
        if self._closing:
            return
        self._closing = True
        for load in list(self._loading.values()):
            load.task.cancel()
            load.room.cancel()  # (even if the task is cancelled before it ever ran)
        rooms = list(self.rooms.values())
        self.rooms.clear()
        for room in rooms:
            self.broker.unsubscribe(room.id)
        await asyncio.gather(*(room.close() for room in rooms), return_exceptions=True)
        if self._trimming is not None:
            self._trimming.cancel()
