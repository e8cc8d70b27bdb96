"""One room: its peers, and the single writer that admits, logs, then broadcasts every change to its document.

Every change goes through the room's writer task, in arrival order: updates
are admitted (checked and applied to the document by the room's
:class:`~candor.rooms.admission.Admission`, which owns the document), appended
to the log as one group (``seq`` assigned here, the one writer), and broadcast
only once the append is durable. A peer's greeting and sync step 1, and every
read of the document, are answered from the writer too, between groups: the
step 2 a peer gets holds exactly what was broadcast before it, and the peer
joins the broadcast set right after, so it never misses or reorders an update.
Presence is relayed at once and never logged (:mod:`candor.rooms.presence`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pycrdt import Doc

from candor.board.transact import EMPTY_UPDATE, transact
from candor.errors import CandorError, Forbidden, InvalidBoard, InvalidUpdate, LogUnavailable, RoomClosing, RoomOutdated
from candor.ids import Access, PeerId, RoomId, Seq
from candor.log.base import Entry, LogRecord
from candor.log.snapshots import SnapshottedLog
from candor.metrics import Metrics
from candor.protocol import AwarenessUpdate, Message, QueryAwareness, SyncStep1, encode_awareness, encode_update
from candor.rooms.inbox import Command, FromLog, FromPeer, FromServer, Greet, Group, Inbox, Read, Stop, Wake, refuse
from candor.rooms.loading import LoadedRoom
from candor.rooms.peer import Peer, send_all
from candor.rooms.presence import Presence, PresenceRelay
from candor.rooms.snapshots import Snapshots
from candor.rooms.sync import Answers, answer_step1, greet, refuse_update

logger = logging.getLogger("candor.room")

SERVER_PEER_ID = PeerId("server")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RoomSettings:
    snapshot_every: int = 500
    idle_timeout_s: float = 60.0
    max_board_bytes: int = 2 * 1024 * 1024
    # y-protocols clients renew their presence every 15 s; another process's, unrenewed this long, is dropped.
    remote_presence_timeout_s: float = 30.0
    # Presence states (awareness client ids) one connection may show, and one room in all.
    max_presence_per_connection: int = 4
    max_presence_per_room: int = 2000
    # A room's peers get its presence changes gathered, one frame per this many seconds (0: each at once).
    presence_interval_s: float = 0.25


class Room:
    """A loaded room. Built by the registry from what it loaded; the registry also decides when it is evicted.

    ``evict(room, force)`` is asked from the writer when the room has been idle
    (unforced: True lets it stop) or must be dropped (forced: its copy can no
    longer be trusted, the next join loads a fresh one).
    """

    def __init__(
        self,
        loaded: LoadedRoom,
        *,
        log: SnapshottedLog,
        settings: RoomSettings,
        metrics: Metrics,
        evict: Callable[[Room, bool], bool],
        on_collect_ended: Callable[[RoomId], None] | None = None,
        publish_awareness: Callable[[bytes], None] | None = None,
    ) -> None:
        self.id = loaded.id
        self.head = loaded.head
        self.peers: set[Peer] = set()
        self.last_activity = time.time()
        self.closed = False
        self._admission = loaded.admission
        self._log = log
        self._settings = settings
        self._metrics = metrics
        self._evict = evict
        self._on_collect_ended = on_collect_ended
        self._snapshots = Snapshots(
            self.id, log, every=settings.snapshot_every, seq=loaded.snapshot_seq, metrics=metrics
        )
        # Since when no connection of this process is in the room. Records other processes
        # append keep arriving, but only our own peers keep a room loaded here.
        self._empty_since = time.monotonic()
        # In the order they joined (a dict keeps it): the first to join is the first served.
        self._subscribers: dict[Peer, None] = {}
        # Logged records that arrived before an earlier one: seq -> (record, admitted here)
        self._ahead: dict[int, tuple[LogRecord, bool]] = {}
        self._inbox = Inbox()
        # Presence is not the board: its awareness gets a document of its own, for its client id.
        self.presence = Presence(
            Doc(), per_owner=settings.max_presence_per_connection, per_room=settings.max_presence_per_room
        )
        self._relay = PresenceRelay(
            self.id,
            self.presence,
            peers=self.peers,
            publish=publish_awareness or (lambda payload: None),
            metrics=metrics,
            remote_timeout_s=settings.remote_presence_timeout_s,
            interval_s=settings.presence_interval_s,
        )
        self._answers = Answers()
        self._runner: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self, tasks: asyncio.TaskGroup) -> asyncio.Task[None]:
        """Run the writer as a task of ``tasks`` (its owner's group); the task ends once the room has stopped."""
        self._runner = tasks.create_task(self._run(), name=f"room:{self.id}")
        return self._runner

    async def close(self, error: CandorError | None = None) -> None:
        """Process everything queued, write a final snapshot, close the peers (with ``error``)."""
        if self._runner is None:
            return
        self._inbox.put_nowait(Stop(error or RoomClosing("the server is shutting down; reconnect shortly")))
        await asyncio.wait([self._runner])  # (the task is its owner's to cancel, not ours)

    # -- what connections and the server ask --------------------------------

    def attach(self, peer: Peer) -> None:
        """Add a connection; the writer greets it with the state vector and the presence shown."""
        self.peers.add(peer)
        self._inbox.put_nowait(Greet(peer))

    def detach(self, peer: Peer) -> None:
        """Forget a connection; its presence is removed for everyone else."""
        self.peers.discard(peer)
        self._subscribers.pop(peer, None)
        self._relay.left(peer)
        if not self.peers:
            self._empty_since = time.monotonic()
            self._inbox.put_nowait(Wake())

    def receive(self, peer: Peer, message: Message) -> None:
        """Handle one decoded message from ``peer``.

        Raises ProtocolError for malformed presence, PolicyViolation (1008) or
        RoomClosing (1013) for presence past its caps (see candor.rooms.presence).
        """
        if isinstance(message, AwarenessUpdate):
            self._relay.local(peer, message.payload)
        elif isinstance(message, QueryAwareness):
            if (states := self.presence.encoded()) is not None:
                peer.send(encode_awareness(states))
        else:
            self._inbox.put_nowait(FromPeer(peer, message))

    def submit(self, change: bytes | Callable[[Doc[Any]], None], access: Access) -> asyncio.Future[Seq | None]:
        """Queue a server-made update behind everything already queued.

        The future gives the update's seq once it is logged and broadcast (None
        for an empty update), or raises the gate's error when it is refused,
        RoomClosing when the room stopped first.
        """
        done: asyncio.Future[Seq | None] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait(FromServer(change, access, done))
        return done

    async def read(self, read: Callable[[Doc[Any]], T]) -> T:
        """``read(doc)``, run by the writer on the document as broadcast (never holding what is not logged).

        Raises what ``read`` raises, or RoomClosing when the room stopped first.
        ``read`` must not keep the document: it is the writer's.
        """
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait(Read(read, done))
        return await done

    def receive_logged(self, records: list[LogRecord]) -> None:
        """Records appended to this room's log by another process: apply and broadcast them in order."""
        self._inbox.put_nowait(FromLog(records))

    def receive_remote_awareness(self, payload: bytes) -> None:
        """Presence relayed from another process: applied and passed to this room's peers, never logged."""
        self._relay.remote(payload)

    def local_awareness(self) -> bytes | None:
        """The presence of this process's own peers, encoded (asked by a process that just loaded the room)."""
        return self._relay.local_states()

    # -- the writer ----------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._serve()
        except Exception as exc:
            # A bug, not bad input: say so, and let every peer reconnect to a fresh copy.
            logger.exception("room %s: writer failed", self.id, extra={"room": self.id, "seq": self.head})
            error = RoomClosing(f"the room failed and was reloaded: {type(exc).__name__}")
            self._drop(error)
            self._inbox.refuse_all(error)
        finally:
            self.closed = True
            self._relay.close()
            self._inbox.refuse_all(RoomClosing("the room closed; try again"))
            # Undo the references back to the room and its gate, so that reference counting frees a
            # closed room at once, without waiting for a full garbage collection (see candor.rooms.heap).
            self._admission.close()

    def _drop(self, error: CandorError) -> None:
        """This copy of the room can no longer be trusted: leave the registry, close every peer."""
        self._evict(self, True)
        for peer in list(self.peers):
            peer.fail(error)

    async def _serve(self) -> None:
        while True:
            command = await self._next_command()
            if command is None:  # idle long enough, and the registry let us go
                await self._final_snapshot()
                return
            batch = [command]
            while not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            if not await self._process(batch):
                for command in batch:  # those after the one that stopped it
                    refuse(command, RoomClosing("the room closed; try again"))
                return

    async def _next_command(self) -> Command | None:
        while True:
            now = time.monotonic()
            until_check = self._relay.expire(now)
            idle_until = self._empty_since + self._settings.idle_timeout_s
            timeout = None if self.peers else max(0.0, idle_until - now)
            if until_check is not None:
                timeout = until_check if timeout is None else min(timeout, until_check)
            try:
                if timeout is None:  # (most of the time: someone is in the room)
                    return await self._inbox.get()
                async with asyncio.timeout(timeout):
                    return await self._inbox.get()
            except TimeoutError:
                if self.peers or time.monotonic() < idle_until:
                    continue
                if not self._inbox.empty():
                    return self._inbox.get_nowait()  # due for eviction, but work came first
                if self._evict(self, False):
                    return None

    async def _process(self, batch: list[Command]) -> bool:
        """Handle a group of commands; False when the writer must stop."""
        group = Group()
        for command in batch:
            if isinstance(command, Stop):
                await self._flush(group)
                await self._final_snapshot()
                for peer in list(self.peers):
                    peer.fail(command.error)
                return False
            if isinstance(command, Wake):
                continue
            if isinstance(command, FromLog):
                self._deliver(command.records, own=False)
            elif isinstance(command, Greet | Read) or (
                isinstance(command, FromPeer) and isinstance(command.message, SyncStep1)
            ):
                if isinstance(command, Greet | FromPeer) and command.peer.closed:
                    continue
                # Answered from the state everyone else has seen: flush first.
                if not await self._flush(group):
                    return False
                group = Group()
                self._answer(command)
            elif isinstance(command, FromPeer) and command.peer.closed:
                continue
            else:
                try:
                    entry = self._admit(command)
                except (Forbidden, InvalidBoard, InvalidUpdate) as exc:
                    self._admission.take_back(group.updates())
                    if isinstance(command, FromServer):
                        refuse(command, exc)
                    else:
                        self._reject(command.peer, exc)
                    continue
                group.add(entry, command.done if isinstance(command, FromServer) else None)
        if not await self._flush(group):
            return False
        # Only when the document holds exactly records 1..head, nothing ahead of it.
        if not self._ahead and self._snapshots.due(self.head):
            await self._write_snapshot()
        return True

    def _answer(self, command: Greet | FromPeer | Read) -> None:
        """A greeting, a sync step 1 or a read: answered from the document as broadcast."""
        doc = self._admission.doc
        if isinstance(command, Read):
            if command.done.done():  # its reader gave up waiting
                return
            try:
                result = command.read(doc)
            except Exception as exc:  # the reader's error, for the reader: the writer goes on
                command.done.set_exception(exc)
            else:
                command.done.set_result(result)
        elif isinstance(command, Greet):
            greet(command.peer, self._answers.step1(doc, self.head), self.presence.encoded())
        elif isinstance(command.message, SyncStep1):
            if answer_step1(command.peer, lambda vector: self._answers.step2(doc, self.head, vector), command.message):
                self._subscribers[command.peer] = None

    def _admit(self, command: FromServer | FromPeer) -> Entry | None:
        """Check one update and apply it to the document; the entry to log, or None if empty.

        The document runs ahead of the log by the entries of the current group
        until they are appended; nothing is broadcast before that.
        """
        if isinstance(command, FromServer):
            access, origin, update = command.access, SERVER_PEER_ID, self._as_update(command.change)
        else:
            assert not isinstance(command.message, SyncStep1)
            access, origin, update = command.peer.access, command.peer.id, command.message.update
        if update == EMPTY_UPDATE:
            return None
        self._admission.admit(access, update)
        return Entry(int(time.time() * 1000), origin, update)

    def _as_update(self, change: bytes | Callable[[Doc[Any]], None]) -> bytes:
        if isinstance(change, bytes):
            return change
        copy: Doc[Any] = Doc()
        copy.apply_update(self._admission.doc.get_update())
        return transact(copy, change, origin="candor")

    def _reject(self, peer: Peer, error: CandorError) -> None:
        self._metrics.rejected.labels(error.code).inc()
        extra = {"room": self.id, "seq": self.head, "peer": peer.id, "reason": error.code}
        logger.info("room %s: update from %s rejected (%s)", self.id, peer.id, error.code, extra=extra)
        refuse_update(peer, error)

    async def _flush(self, group: Group) -> bool:
        """Append the group's entries durably, then deliver them; False if the log failed."""
        records: list[LogRecord] = []
        if group.entries:
            try:
                with self._metrics.append_seconds.time():
                    records = await self._log.append(self.id, group.entries)
                self._metrics.appended.inc(len(records))
            except CandorError as exc:
                # The document now holds updates the log does not: drop this copy
                # of the room; the next join reloads it from the log.
                extra = {"room": self.id, "seq": self.head, "reason": exc.code}
                logger.error("room %s: log append failed after seq %d: %s", self.id, self.head, exc, extra=extra)
                failure = exc if isinstance(exc, LogUnavailable) else LogUnavailable(exc.message)
                self._drop(failure)
                group.failed(failure)
                return False
            self._deliver(records, own=True)
        group.logged(records)
        if self._admission.take_collect_ended() and self._on_collect_ended is not None:
            self._on_collect_ended(self.id)
        return True

    def _deliver(self, records: list[LogRecord], own: bool) -> None:
        """Broadcast logged records in seq order, once each; records after a gap wait for it.

        ``own`` records were admitted here and are in the document already;
        others (appended by another process sharing the log) are applied now.
        """
        for record in records:
            if record.seq > self.head:
                self._ahead[record.seq] = (record, own)
        while (next_record := self._ahead.pop(self.head + 1, None)) is not None:
            record, mine = next_record
            if not mine:
                self._admission.apply_logged(record.update, f"(room {self.id}, seq {record.seq})")
            self._admission.logged(record.update)
            self.head = record.seq
            self._metrics.messages_out.inc(send_all(self._subscribers, encode_update(record.update)))
        self.last_activity = time.time()

    async def _write_snapshot(self) -> None:
        state = self._admission.doc.get_update()
        self._admission.snapshot_taken(state)
        try:
            await self._snapshots.write(self.head, state)
        except RoomOutdated as exc:
            # Storage was rewritten under this copy (a purge another process ran): drop it, everyone reloads.
            logger.warning("room %s: %s", self.id, exc.message, extra={"room": self.id, "reason": exc.code})
            self._drop(exc)

    async def _final_snapshot(self) -> None:
        if self._snapshots.behind(self.head):
            await self._write_snapshot()
