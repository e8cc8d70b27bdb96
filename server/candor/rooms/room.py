"""One board: its live document, its peers, and the single writer that logs then broadcasts.

Every change goes through the room's runner task, in arrival order:
updates are applied to the document, appended to the log as one group
(``seq`` assigned here, the one writer), and broadcast only once the append is
durable. A peer's sync step 1 is answered from the runner too, between groups,
so the step 2 it gets holds exactly what was broadcast before it and the peer
joins the broadcast set right after: it never misses or reorders an update.
Awareness is relayed at once and never logged; with several processes it
also goes through the broker, and presence relayed from another process that
stops being renewed (that process may have died) is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc

from candor.board.gate import BoardGate
from candor.board.safe import apply_stored
from candor.board.transact import EMPTY_UPDATE, transact
from candor.errors import (
    CandorError,
    Forbidden,
    InvalidBoard,
    InvalidUpdate,
    LogUnavailable,
    ProtocolError,
    RoomClosing,
    RoomOutdated,
)
from candor.ids import Access, PeerId, RoomId, Seq
from candor.log.base import Entry, LogRecord, SnapshotRecord
from candor.log.snapshots import SnapshottedLog
from candor.metrics import Metrics
from candor.protocol import (
    AwarenessUpdate,
    Message,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    encode_awareness,
    encode_permission_denied,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)
from candor.protocol.update import OPEN_BOUNDS, read_update
from candor.rooms.peer import Peer, PeerState
from candor.rooms.presence import REMOTE, Presence

logger = logging.getLogger("candor.room")

SERVER_PEER_ID = PeerId("server")


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


@dataclass(frozen=True, slots=True)
class _FromPeer:
    peer: Peer
    message: SyncStep1 | SyncStep2 | SyncUpdate


@dataclass(frozen=True, slots=True)
class _FromServer:
    """A change the server itself makes (revealing, facilitator broadcasts); ``done`` resolves once logged.

    ``change`` is either a ready update or a function that edits a copy of the
    current document (so it can overwrite existing values correctly).
    """

    change: bytes | Callable[[Doc[Any]], None]
    access: Access
    done: asyncio.Future[Seq | None]


@dataclass(frozen=True, slots=True)
class _FromLog:
    """Records another process appended to this room's log."""

    records: list[LogRecord]


@dataclass(frozen=True, slots=True)
class _Wake:
    """Re-evaluate idleness (the last peer left)."""


@dataclass(frozen=True, slots=True)
class _Stop:
    """Finish what is queued, snapshot, and end the runner; peers are closed with ``error``."""

    error: CandorError


_Command = _FromPeer | _FromServer | _FromLog | _Wake | _Stop


class _Inbox:
    """The room's commands in arrival order, for its one runner.

    What ``asyncio.Queue`` does for one consumer, without looking up the
    running loop on every put and get (each lookup a ``getpid()`` on Python
    3.11), as every update passes through here.
    """

    def __init__(self) -> None:
        self._commands: deque[_Command] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, command: _Command) -> None:
        self._commands.append(command)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._commands

    def get_nowait(self) -> _Command:
        return self._commands.popleft()

    async def get(self) -> _Command:
        if not self._commands:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._commands.popleft()


class Room:
    """A loaded board. Created by the registry, which also decides when it is evicted."""

    def __init__(
        self,
        room_id: RoomId,
        doc: Doc[Any],
        head: Seq,
        snapshot_seq: Seq,
        log: SnapshottedLog,
        settings: RoomSettings,
        try_evict: Callable[[Room, bool], bool],
        gate: BoardGate | None = None,
        state_bytes: int = 0,
        on_collect_ended: Callable[[RoomId], None] | None = None,
        *,
        metrics: Metrics,
        publish_awareness: Callable[[bytes], None] | None = None,
    ) -> None:
        self.id = room_id
        self.doc = doc
        self.head = head
        self.snapshot_seq = snapshot_seq
        self.peers: set[Peer] = set()
        self.last_activity = time.time()
        self._log = log
        self._settings = settings
        self._try_evict = try_evict
        self._gate = gate
        self._on_collect_ended = on_collect_ended
        self._metrics = metrics
        self._publish_awareness = publish_awareness or (lambda payload: None)
        self._next_presence_check = time.monotonic()
        self._remote_presence = False  # set once another process relays presence: only then can it go stale
        # Since when no connection of this process is in the room. Records other processes
        # append keep arriving, but only our own peers keep a room loaded here.
        self._empty_since = time.monotonic()
        # An estimate of the board's encoded size: its last snapshot plus updates since.
        self.state_bytes = state_bytes
        self.rejected: dict[str, int] = {}
        # In the order they joined (a dict keeps it): the first to join is the first served.
        self._subscribers: dict[Peer, None] = {}
        # Logged records that arrived before an earlier one: seq -> (record, admitted here)
        self._ahead: dict[int, tuple[LogRecord, bool]] = {}
        self._inbox = _Inbox()
        self.presence = Presence(
            doc, per_owner=settings.max_presence_per_connection, per_room=settings.max_presence_per_room
        )
        self._runner: asyncio.Task[None] | None = None
        self.closed = False

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name=f"room:{self.id}")

    async def close(self, error: CandorError | None = None) -> None:
        """Process everything queued, write a final snapshot, close the peers (with ``error``)."""
        if self._runner is None:
            return
        self._inbox.put_nowait(_Stop(error or RoomClosing("the server is shutting down; reconnect shortly")))
        await self._runner

    def on_stopped(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the runner has ended."""
        if self._runner is None or self._runner.done():
            callback()
        else:
            self._runner.add_done_callback(lambda _: callback())

    async def wait_closed(self) -> None:
        if self._runner is not None:
            await self._runner

    # -- peers ---------------------------------------------------------------

    def attach(self, peer: Peer) -> None:
        """Greet a new connection with our state vector and the presence we know."""
        self.peers.add(peer)
        peer.send(encode_sync_step1(self.doc.get_state()))
        if (states := self.presence.encoded()) is not None:
            peer.send(encode_awareness(states))

    def detach(self, peer: Peer) -> None:
        """Forget a connection; its presence is removed for everyone else."""
        self.peers.discard(peer)
        self._subscribers.pop(peer, None)
        removal = self.presence.release(peer)
        if removal is not None:
            self._broadcast(encode_awareness(removal), skip=peer)
            self._publish_awareness(removal)
        if not self.peers:
            self._empty_since = time.monotonic()
            self._inbox.put_nowait(_Wake())

    def receive(self, peer: Peer, message: Message) -> None:
        """Handle one decoded message from ``peer``.

        Raises ProtocolError for malformed presence, PolicyViolation (1008) or
        RoomClosing (1013) for presence past its caps (see candor.rooms.presence).
        """
        if isinstance(message, AwarenessUpdate):
            self._relay_awareness(peer, message.payload)
        elif isinstance(message, QueryAwareness):
            if (states := self.presence.encoded()) is not None:
                peer.send(encode_awareness(states))
        else:
            self._inbox.put_nowait(_FromPeer(peer, message))

    def submit(self, change: bytes | Callable[[Doc[Any]], None], access: Access) -> asyncio.Future[Seq | None]:
        """Queue a server-made update behind everything already queued.

        The future gives the update's seq once it is logged and broadcast (None
        for an empty update), or raises the gate's error when it is refused.
        """
        done: asyncio.Future[Seq | None] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait(_FromServer(change, access, done))
        return done

    def receive_logged(self, records: list[LogRecord]) -> None:
        """Records appended to this room's log by another process: apply and broadcast them in order."""
        self._inbox.put_nowait(_FromLog(records))

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    # -- awareness -----------------------------------------------------------

    def _relay_awareness(self, peer: Peer, payload: bytes) -> None:
        relayed = self.presence.apply(peer, payload)
        if relayed is not None:
            self._broadcast(encode_awareness(relayed), skip=peer)
            self._publish_awareness(relayed)

    def receive_remote_awareness(self, payload: bytes) -> None:
        """Presence relayed from another process: applied and passed to this room's peers, never logged."""
        try:
            relayed = self.presence.apply(REMOTE, payload, strict=False)
        except ProtocolError:
            logger.warning("room %s: bad awareness from another process ignored", self.id, extra={"room": self.id})
            return
        if relayed is None:
            return
        self._remote_presence = True
        # Every attached peer, synced or not: the answer to the "who is here?" a newcomer's arrival
        # made this process ask may come back before the newcomer's sync finishes.
        frame = encode_awareness(relayed)
        for peer in self.peers:
            peer.send(frame)
        self._metrics.messages_out.inc(len(self.peers))

    def local_awareness(self) -> bytes | None:
        """The presence of this process's own peers, encoded (asked by a process that just loaded the room)."""
        return self.presence.encoded([c for peer in self.peers for c in self.presence.owned_by(peer)])

    def _drop_stale_presence(self) -> None:
        """Forget presence relayed from another process that was not renewed in time (the process may be gone)."""
        self._next_presence_check = time.monotonic() + self._settings.remote_presence_timeout_s / 6
        if not self._remote_presence:
            return
        oldest_ms = time.time() * 1000 - self._settings.remote_presence_timeout_s * 1000
        remote = self.presence.owned_by(REMOTE)
        stale = [c for c in remote if self.presence.last_updated_ms(c) <= oldest_ms]
        removal = self.presence.release(REMOTE, stale) if stale else None
        if removal is not None:
            self._broadcast(encode_awareness(removal))

    # -- the writer ----------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._serve()
        except Exception as exc:
            # A bug, not bad input: say so, and let every peer reconnect to a fresh copy.
            logger.exception("room %s: writer failed", self.id, extra={"room": self.id, "seq": self.head})
            self._try_evict(self, True)
            error = RoomClosing(f"the room failed and was reloaded: {type(exc).__name__}")
            for peer in list(self.peers):
                peer.fail(error)
            while not self._inbox.empty():
                command = self._inbox.get_nowait()
                if isinstance(command, _FromServer) and not command.done.done():
                    command.done.set_exception(error)
        finally:
            self.closed = True
            # Undo the references back to the room and its gate, so that reference counting frees a
            # closed room at once, without waiting for a full garbage collection (see candor.rooms.heap).
            if self._gate is not None:
                self._gate.close()

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
                return

    async def _next_command(self) -> _Command | None:
        while True:
            now = time.monotonic()
            if now >= self._next_presence_check:
                self._drop_stale_presence()
            idle_until = self._empty_since + self._settings.idle_timeout_s
            timeout = None if self.peers else max(0.0, idle_until - now)
            if self._remote_presence and self.presence.owned_by(REMOTE):
                until_check = max(0.0, self._next_presence_check - now)
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
                if self._try_evict(self, False):
                    return None

    async def _process(self, batch: list[_Command]) -> bool:
        """Handle a group of commands; False when the runner must stop."""
        entries: list[Entry] = []
        waiting: list[tuple[asyncio.Future[Seq | None], int | None]] = []
        for command in batch:
            if isinstance(command, _Stop):
                await self._flush(entries, waiting)
                await self._final_snapshot()
                for peer in list(self.peers):
                    peer.fail(command.error)
                return False
            if isinstance(command, _Wake):
                continue
            if isinstance(command, _FromLog):
                self._deliver(command.records, own=False)
                continue
            if isinstance(command, _FromServer):
                try:
                    entry = self._admit(command.access, SERVER_PEER_ID, self._as_update(command.change))
                except (Forbidden, InvalidBoard, InvalidUpdate) as exc:
                    self._take_back(entries)
                    command.done.set_exception(exc)
                    continue
                if entry is not None:
                    entries.append(entry)
                waiting.append((command.done, len(entries) - 1 if entry is not None else None))
                continue
            if command.peer.closed:
                continue
            message = command.message
            if isinstance(message, SyncStep1):
                # Answer from the state everyone else has seen: flush first.
                if not await self._flush(entries, waiting):
                    return False
                entries, waiting = [], []
                self._answer_step1(command.peer, message)
            else:
                try:
                    entry = self._admit(command.peer.access, command.peer.id, message.update)
                except (Forbidden, InvalidBoard, InvalidUpdate) as exc:
                    self._take_back(entries)
                    self._reject(command.peer, exc)
                    continue
                if entry is not None:
                    entries.append(entry)
        if not await self._flush(entries, waiting):
            return False
        await self._maybe_snapshot()
        return True

    def _answer_step1(self, peer: Peer, message: SyncStep1) -> None:
        try:
            update = self.doc.get_update(message.state_vector)
        except ValueError:
            peer.fail(ProtocolError("sync step 1 carries a malformed state vector"))
            return
        peer.send(encode_sync_step2(update))
        if peer.state is PeerState.CONNECTED:
            peer.mark_synced()
            self._subscribers[peer] = None

    def _admit(self, access: Access, origin: PeerId, update: bytes) -> Entry | None:
        """Check one update and apply it to the document; the entry to log, or None if empty.

        The document runs ahead of the log by the entries of the current group
        until they are appended; nothing is broadcast before that.
        """
        if update == EMPTY_UPDATE:
            return None
        if self.state_bytes + len(update) > self._settings.max_board_bytes:
            # The running sum counts every update ever applied, moves and deletions too;
            # near the limit, measure what the board really takes before refusing.
            self.state_bytes = len(self.doc.get_update())
        if self._gate is not None:
            self._gate.admit(access, update, self.state_bytes)  # applies it to self.doc
        else:
            if self.state_bytes + len(update) > self._settings.max_board_bytes:
                raise InvalidBoard(f"the document would grow past its {self._settings.max_board_bytes}-byte limit")
            read_update(update, OPEN_BOUNDS)  # before pycrdt decodes a byte of it
            try:
                self.doc.apply_update(update)
            except ValueError as exc:
                raise InvalidUpdate(f"update rejected: {exc}") from exc
        self.state_bytes += len(update)
        return Entry(int(time.time() * 1000), origin, update)

    def _as_update(self, change: bytes | Callable[[Doc[Any]], None]) -> bytes:
        if isinstance(change, bytes):
            return change
        copy: Doc[Any] = Doc()
        copy.apply_update(self.doc.get_update())
        return transact(copy, change, origin="candor")

    def _take_back(self, pending: list[Entry]) -> None:
        """Replace the document with one without the update just refused: as logged, plus ``pending``."""
        if self._gate is not None:  # an open room refuses only updates that did not apply
            self.doc = self._gate.take_back([entry.update for entry in pending])

    def _reject(self, peer: Peer, error: CandorError) -> None:
        """Tell the sender why, and close it: its copy now holds a change nobody else has.

        y-websocket logs the permission-denied reason; the close code says the
        same to any client. On reconnect a client must start from a fresh document.
        """
        self.rejected[error.code] = self.rejected.get(error.code, 0) + 1
        self._metrics.rejected.labels(error.code).inc()
        logger.info(
            "room %s: update from %s rejected (%s)",
            self.id,
            peer.id,
            error.code,
            extra={"room": self.id, "seq": self.head, "peer": peer.id, "reason": error.code},
        )
        peer.send(encode_permission_denied(error.message))
        peer.fail(error, drain=True)

    async def _flush(
        self,
        entries: list[Entry],
        waiting: list[tuple[asyncio.Future[Seq | None], int | None]] | None = None,
    ) -> bool:
        """Append ``entries`` durably, then deliver them; False if the log failed."""
        records: list[LogRecord] = []
        failure: LogUnavailable | None = None
        if entries:
            try:
                with self._metrics.append_seconds.time():
                    records = await self._log.append(self.id, entries)
                self._metrics.appended.inc(len(records))
            except CandorError as exc:
                # The document now holds updates the log does not: drop this copy
                # of the room; the next join reloads it from the log.
                logger.error(
                    "room %s: log append failed after seq %d: %s",
                    self.id,
                    self.head,
                    exc,
                    extra={"room": self.id, "seq": self.head, "reason": exc.code},
                )
                failure = exc if isinstance(exc, LogUnavailable) else LogUnavailable(exc.message)
                self._try_evict(self, True)
                for peer in list(self.peers):
                    peer.fail(failure)
            else:
                self._deliver(records, own=True)
        for done, index in waiting or ():
            if done.done():
                continue
            if failure is not None:
                done.set_exception(failure)
            else:
                done.set_result(records[index].seq if index is not None else None)
        if failure is not None:
            return False
        if self._gate is not None and self._gate.take_collect_ended() and self._on_collect_ended is not None:
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
                self._apply_logged(record)
            if self._gate is not None:
                self._gate.logged.add(record.update)
            self.head = record.seq
            self._broadcast(encode_update(record.update))
        self.last_activity = time.time()

    def _apply_logged(self, record: LogRecord) -> None:
        if self._gate is not None:
            self._gate.apply_trusted(record.update, f"(room {self.id}, seq {record.seq})")  # applies it to self.doc
        else:
            apply_stored(self.doc, record.update, None, where=f"(room {self.id}, seq {record.seq})")
        self.state_bytes += len(record.update)

    async def _maybe_snapshot(self) -> None:
        # Only when the document holds exactly records 1..head, nothing ahead of it.
        if not self._ahead and self.head - self.snapshot_seq >= self._settings.snapshot_every:
            await self._write_snapshot()

    def _broadcast(self, frame: bytes, skip: Peer | None = None) -> None:
        sent = 0
        for peer in self._subscribers:
            if peer is not skip:
                peer.send(frame)
                sent += 1
        self._metrics.messages_out.inc(sent)

    async def _write_snapshot(self) -> None:
        snapshot = SnapshotRecord(self.id, self.head, int(time.time() * 1000), self.doc.get_update())
        if self._gate is not None:
            self._gate.logged.rebase(snapshot.state)
        try:
            await self._log.write_snapshot(snapshot)
        except RoomOutdated as exc:
            # Storage was rewritten under this copy (a purge another process ran): drop it, everyone reloads.
            logger.warning("room %s: %s", self.id, exc.message, extra={"room": self.id, "reason": exc.code})
            self._try_evict(self, True)
            for peer in list(self.peers):
                peer.fail(exc)
            return
        except CandorError as exc:
            # A missing snapshot only makes loads slower; the log is intact.
            logger.warning(
                "room %s: snapshot at seq %d failed: %s",
                self.id,
                self.head,
                exc,
                extra={"room": self.id, "seq": self.head, "reason": exc.code},
            )
            return
        self._metrics.snapshots.inc()
        self.snapshot_seq = self.head

    async def _final_snapshot(self) -> None:
        if self.head > self.snapshot_seq:
            await self._write_snapshot()
