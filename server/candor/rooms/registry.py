"""Loads each room once on first join, hands it to its peers, and evicts it when idle.

With several processes, a room subscribes to the broker before it reads the
log, so what other processes append meanwhile is delivered and what the read
already holds is skipped; an unloaded room is unsubscribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from pycrdt import Doc

from candor.board.gate import BoardGate, LoggedState
from candor.board.safe import EntryIndex, apply_stored
from candor.broker.base import Broker
from candor.broker.local import LocalBroker
from candor.errors import CandorError, InvalidUpdate, LogUnavailable
from candor.ids import Access, RoomId, Seq
from candor.log.base import LogRecord
from candor.log.snapshots import SnapshottedLog
from candor.metrics import Metrics
from candor.rooms.heap import HeapTrimmer
from candor.rooms.peer import Peer
from candor.rooms.room import Room, RoomSettings

logger = logging.getLogger("candor.registry")

# Awareness updates kept for a room still loading; later ones are dropped (clients renew theirs).
MAX_EARLY_AWARENESS = 64


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


class RoomRegistry:
    """Owns every loaded room and every load in progress.

    Many peers joining a cold room at once share one load task, so the
    snapshot and log are read exactly once. A room is evicted only from its
    own runner, and only when it has no peer at that instant; a join after
    that loads a fresh copy from the log.
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
        self._loading: dict[RoomId, asyncio.Task[Room]] = {}
        self._retired: set[Room] = set()
        self._paused: dict[RoomId, asyncio.Event] = {}
        self._closing = False
        self._heap = HeapTrimmer(self.metrics.heap_trims.inc)

    async def join(self, room_id: RoomId, peer: Peer, gated: bool = False) -> Room:
        """The loaded room, with ``peer`` attached to it.

        A ``gated`` room checks every update against the board schema and the
        sender's role; an open room accepts any Yjs update.
        """
        while True:
            room = await self._loaded(room_id, gated)
            if not room.closed and self.rooms.get(room_id) is room:
                room.attach(peer)
                return room

    async def submit(
        self, room_id: RoomId, change: bytes | Callable[[Doc[Any]], None], access: Access, gated: bool = True
    ) -> Seq | None:
        """Apply a server-made update to a room (loading it if needed) once it is logged."""
        while True:
            room = await self._loaded(room_id, gated)
            if not room.closed and self.rooms.get(room_id) is room:
                return await room.submit(change, access)

    async def _loaded(self, room_id: RoomId, gated: bool) -> Room:
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
        task = self._loading.get(room_id)
        if task is None:
            task = asyncio.create_task(self._load(room_id, gated), name=f"load:{room_id}")
            self._loading[room_id] = task
        # One joiner giving up must not cancel the load the others wait for.
        return await asyncio.shield(task)

    async def _load(self, room_id: RoomId, gated: bool) -> Room:
        inbound = _Inbound()
        try:
            await self.broker.subscribe(room_id, inbound.records, inbound.awareness, inbound.local_awareness)
        except BaseException:
            del self._loading[room_id]
            raise
        try:
            doc: Doc[Any] = Doc()
            index = EntryIndex() if gated else None
            snapshot = await self.log.latest_snapshot(room_id)
            start = Seq(0)
            size = 0
            refused = 0
            if snapshot is not None:
                refused += not apply_stored(doc, snapshot.state, index, where=f"(room {room_id} snapshot)")
                start = snapshot.seq
                size = len(snapshot.state)
            records = await self.log.read(room_id, after=start)
            for record in records:
                refused += not apply_stored(doc, record.update, index, where=f"(room {room_id}, seq {record.seq})")
                size += len(record.update)
            if refused:
                self.metrics.refused_records.inc(refused)
            head = records[-1].seq if records else start
            gate = None
            if index is not None:
                logged = LoggedState(snapshot.state if snapshot else b"", [r.update for r in records])
                gate = BoardGate(logged, self.settings.max_board_bytes, (doc, index))
            room = Room(
                room_id,
                doc,
                head,
                start,
                self.log,
                self.settings,
                self._evict,
                gate,
                size,
                self._on_collect_ended,
                metrics=self.metrics,
                publish_awareness=functools.partial(self.broker.publish_awareness, room_id),
            )
            inbound.bind(room)
            room.start()
            self.rooms[room_id] = room
            self.loads += 1
            self.metrics.room_loads.inc()
            logger.info(
                "room %s loaded at seq %d (%d records after snapshot)",
                room_id,
                head,
                len(records),
                extra={"room": room_id, "seq": head, "count": len(records)},
            )
            return room
        except ValueError as exc:
            self.broker.unsubscribe(room_id)
            raise InvalidUpdate(f"room {room_id} has an unreadable record: {exc}") from exc
        except BaseException:
            self.broker.unsubscribe(room_id)
            raise
        finally:
            del self._loading[room_id]

    def _evict(self, room: Room, force: bool) -> bool:
        """Called by the room's runner; True when it may shut down.

        Unforced, it refuses while any peer is attached: the check and the
        removal happen in one step of the event loop, so no join slips between.
        """
        if room.peers and not force:
            return False
        if self.rooms.get(room.id) is room:
            del self.rooms[room.id]
            self.broker.unsubscribe(room.id)
            self._retired.add(room)
            room.on_stopped(lambda: self._stopped(room))
        return True

    def _stopped(self, room: Room) -> None:
        self._retired.discard(room)
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
                    await asyncio.gather(loading, return_exceptions=True)
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
        """Stop accepting joins, flush and snapshot every room."""
        self._closing = True
        for task in list(self._loading.values()):
            task.cancel()
        rooms = list(self.rooms.values())
        self.rooms.clear()
        for room in rooms:
            self.broker.unsubscribe(room.id)
        await asyncio.gather(*(room.close() for room in rooms), return_exceptions=True)
        await asyncio.gather(*(room.wait_closed() for room in list(self._retired)), return_exceptions=True)
        self._heap.close()
