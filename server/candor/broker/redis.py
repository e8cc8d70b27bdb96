"""Fan-out between processes over Redis: records read from each room's stream on news, awareness over pub/sub.

Records travel on each room's log stream itself. The append script announces
every append on the room's shard channel (``N`` + the appending process's
node id + the new head), atomically with it (with ``--redis-wait-replicas``,
once the replicas have it). A process that holds the room and
hears of an append by another reads that room's stream from the last id it
delivered (one XRANGE per room with news, pipelined, on a connection of its
own). Its own news it ignores: the room delivered those records as it logged
them; they are read with the next news or sweep and dropped as already
delivered. Pub/sub may drop a
message (a reconnect, a failover), so every room is also read once every
``SWEEP_S`` seconds whatever it heard, and after its channel is (re)joined.
Reading only the rooms with news keeps the cost per append constant however
many rooms a process holds, and every read names one key, as Redis Cluster
requires (see docs/scaling.md): a cluster client splits the pipelined reads by
node.

A subscription starts at the room's head at that moment, so everything
appended later is delivered; a read that skips seqs (the stream was compacted
past a slow reader) is completed from the log's archive. A malformed entry is
logged and skipped; a stream Redis refuses to read is set aside alone for a
while, so the other rooms keep flowing. On any Redis error the loops back off
and retry forever, reconnecting by themselves.

Awareness goes by SPUBLISH/SSUBSCRIBE on the shard channel ``candor:{ROOM}:awareness``,
which lives on the room's shard (a cluster client keeps one subscription per
node, and moves a channel when its slot moves or its shard fails over). Every
message carries its process's node id, and a process ignores its own.
Subscribing to a room waits (up to a second) until Redis confirms the channel,
and only then asks the other processes who is present; each answers with the
states of its own peers. So presence set before a process joined the channel
reaches it by the answer, and presence set after by the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError, ResponseError

from candor.broker.backoff import Backoff
from candor.broker.base import AwarenessCallback, AwarenessSource, RecordsCallback
from candor.errors import CandorError, LogUnavailable
from candor.ids import RoomId, Seq
from candor.log.base import LogRecord
from candor.log.codec import decode_record
from candor.log.redis import RedisLog
from candor.log.redis_client import Client, as_bytes, connect
from candor.log.redis_names import (
    AWARENESS,
    NEWS,
    QUERY,
    decode_relay,
    encode_relay,
    room_channel,
    room_key,
    seq_of,
    stream_id,
)

logger = logging.getLogger("candor.broker")

SWEEP_S = 1.0
READ_COUNT = 512
SET_ASIDE_S = 30.0
PUBSUB_POLL_S = 0.05
CHANNEL_READY_S = 1.0
OUTBOX_LIMIT = 4096
PUBLISH_BATCH = 256


@dataclass(eq=False)
class _Subscription:
    on_records: RecordsCallback
    on_awareness: AwarenessCallback
    local_awareness: AwarenessSource | None
    cursor: bytes  # the last stream id read
    delivered: int  # the last seq delivered, or loaded when subscribing
    set_aside_until: float = 0.0


class RedisBroker:
    """The broker of ``candor serve --redis-url``; its tasks run from :meth:`start` to :meth:`close`."""

    def __init__(self, client: Client, reader: Client, log: RedisLog, node_id: bytes) -> None:
        """``node_id``: this process's id in relayed messages, the one its ``log`` announces appends with."""
        self._redis = client
        self._reader = reader  # the stream reads, on a connection of their own
        self._log = log
        self.node_id = node_id
        self._subs: dict[RoomId, _Subscription] = {}
        self._generation = 0  # bumped whenever the set of rooms changes
        self._dirty: set[RoomId] = set()  # rooms with news from other processes, to read
        self._news = asyncio.Event()
        self._channels_ready: set[RoomId] = set()  # awareness channels Redis confirmed
        self._channel_waiters: dict[RoomId, asyncio.Future[None]] = {}
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(OUTBOX_LIMIT)
        # The broker's loops, owned by a task group entered by start() and left by close().
        self._lifetime = contextlib.AsyncExitStack()
        self._loops: list[asyncio.Task[None]] = []
        self._closed = False

    @classmethod
    async def connect(cls, url: str, log: RedisLog, node_id: bytes) -> RedisBroker:
        """A broker over the Redis (or Redis Cluster) at ``url``; LogUnavailable when it does not answer."""
        return cls(await connect(url), await connect(url, single=True), log, node_id)

    async def start(self) -> None:
        """Start the loops (reading streams, relaying awareness in and out) in the broker's task group."""
        if self._loops:
            return
        group = await self._lifetime.enter_async_context(asyncio.TaskGroup())
        self._loops = [
            group.create_task(self._read_streams(), name="broker:streams"),
            group.create_task(self._listen(), name="broker:awareness-in"),
            group.create_task(self._publish(), name="broker:awareness-out"),
        ]

    async def close(self) -> None:
        """Stop the loops (the task group waits for each to end) and release both connections."""
        self._closed = True
        for loop in self._loops:  # they retry forever: only cancelling ends them
            loop.cancel()
        await self._lifetime.aclose()
        await self._reader.aclose()
        await self._redis.aclose()

    # -- subscriptions -------------------------------------------------------

    async def subscribe(
        self,
        room: RoomId,
        on_records: RecordsCallback,
        on_awareness: AwarenessCallback,
        local_awareness: AwarenessSource | None = None,
    ) -> None:
        if self._closed:
            raise LogUnavailable("the broker is closed")
        head = await self._log.head(room)
        self._subs[room] = _Subscription(on_records, on_awareness, local_awareness, stream_id(head).encode(), head)
        self._generation += 1
        self._mark(room)  # whatever is appended before our channel is joined, this read catches
        await self._join_channel(room)

    async def _join_channel(self, room: RoomId) -> None:
        """Wait until the listener's SUBSCRIBE to the room's channel is confirmed (best effort, bounded)."""
        if room in self._channels_ready:
            self._send(room, encode_relay(QUERY, self.node_id))
            return
        waiter = self._channel_waiters.get(room)
        if waiter is None or waiter.done():
            waiter = self._channel_waiters[room] = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):  # presence is best effort; the room works without it
            await asyncio.wait_for(asyncio.shield(waiter), CHANNEL_READY_S)

    def unsubscribe(self, room: RoomId) -> None:
        if self._subs.pop(room, None) is not None:
            self._generation += 1
        waiter = self._channel_waiters.pop(room, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)  # nobody waits for this channel any more

    # -- records -------------------------------------------------------------

    def _mark(self, room: RoomId) -> None:
        """Read ``room``'s stream at the reader's next turn."""
        self._dirty.add(room)
        self._news.set()

    async def _read_streams(self) -> None:
        backoff = Backoff("stream reader")
        next_sweep = 0.0
        while True:
            timeout = max(0.0, next_sweep - time.monotonic())
            if not self._dirty:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._news.wait(), timeout)
            self._news.clear()
            now = time.monotonic()
            rooms, self._dirty = self._dirty, set()
            if now >= next_sweep:
                rooms |= set(self._subs)  # news lost on the way is found here
                next_sweep = now + SWEEP_S
            try:
                await self._read_rooms(rooms, now)
            except Exception as exc:
                self._dirty |= rooms  # read them again once Redis answers
                await backoff.failed(exc)
            else:
                backoff.succeeded()

    async def _read_rooms(self, rooms: set[RoomId], now: float) -> None:
        """One pipelined XRANGE per room, from the last id delivered; a full page means more to read next turn."""
        reading = [(r, sub) for r in rooms if (sub := self._subs.get(r)) is not None and sub.set_aside_until <= now]
        if not reading:
            return
        pipe = self._reader.pipeline(transaction=False)
        for room, sub in reading:
            pipe.xrange(room_key(room, "log"), b"(" + sub.cursor, "+", count=READ_COUNT)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        for (room, sub), entries in zip(reading, replies, strict=True):
            if isinstance(entries, ResponseError):
                self._set_aside(room, sub, entries)
            elif isinstance(entries, Exception):
                raise entries
            elif self._subs.get(room) is sub and entries:
                await self._deliver(room, sub, entries)
                if len(entries) == READ_COUNT:
                    self._mark(room)

    async def _deliver(self, room: RoomId, sub: _Subscription, entries: list[Any]) -> None:
        records: list[LogRecord] = []
        cursor, delivered = sub.cursor, sub.delivered
        for entry_id, fields in entries:
            cursor = as_bytes(entry_id)
            record = _decoded(room, cursor, fields)
            if record is None or record.seq <= delivered:
                continue
            if record.seq > delivered + 1:
                records += await self._missed(room, delivered, record.seq)
                if self._subs.get(room) is not sub:
                    return
            records.append(record)
            delivered = record.seq
        sub.cursor, sub.delivered = cursor, delivered
        self._log.saw(room, delivered)
        if records:
            try:
                sub.on_records(records)
            except Exception:
                logger.exception("room %s: delivering records failed", room, extra={"room": room})

    async def _missed(self, room: RoomId, delivered: int, seq: int) -> list[LogRecord]:
        """The records between the last delivered and ``seq``: the stream was compacted past them."""
        try:
            return await self._log.read(room, after=Seq(delivered), upto=Seq(seq - 1))
        except LogUnavailable:
            raise
        except CandorError as exc:
            logger.error("room %s: records %d..%d cannot be read: %s", room, delivered + 1, seq - 1, exc.message)
            return []

    def _set_aside(self, room: RoomId, sub: _Subscription, error: ResponseError) -> None:
        """A stream Redis refuses to read is left out for a while; the other rooms go on."""
        sub.set_aside_until = time.monotonic() + SET_ASIDE_S
        logger.error(
            "room %s: its stream cannot be read (%s); left out for %ds, other rooms go on",
            room,
            error,
            SET_ASIDE_S,
            extra={"room": room},
        )

    # -- awareness -----------------------------------------------------------

    def publish_awareness(self, room: RoomId, payload: bytes) -> None:
        self._send(room, encode_relay(AWARENESS, self.node_id, payload))

    def _send(self, room: RoomId, message: bytes) -> None:
        if self._closed:
            return
        with contextlib.suppress(asyncio.QueueFull):  # presence is renewed by its clients; dropping is safe
            self._outbox.put_nowait((room_channel(room), message))

    async def _publish(self) -> None:
        backoff = Backoff("awareness publisher")
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < PUBLISH_BATCH:
                batch.append(self._outbox.get_nowait())
            try:
                pipe = self._redis.pipeline(transaction=False)
                for channel, message in batch:
                    pipe.spublish(channel, message)
                await pipe.execute()
            except Exception as exc:
                await backoff.failed(exc)
            else:
                backoff.succeeded()

    async def _listen(self) -> None:
        backoff = Backoff("awareness listener")
        while True:
            pubsub: Any = self._redis.pubsub()
            try:
                await self._listen_on(pubsub, backoff)
            except Exception as exc:
                await backoff.failed(exc)
            finally:
                self._channels_ready.clear()
                with contextlib.suppress(RedisError):
                    await pubsub.aclose()

    async def _listen_on(self, pubsub: Any, backoff: Backoff) -> None:
        joined: dict[bytes, RoomId] = {}
        generation: int | None = None
        while True:
            if generation != self._generation:  # the rooms changed since we last looked
                generation = self._generation
                wanted = {room_channel(room).encode(): room for room in self._subs}
                new = {channel: room for channel, room in wanted.items() if channel not in joined}
                if new:
                    await pubsub.ssubscribe(*new)
                    joined.update(new)
                gone = [channel for channel in joined if channel not in wanted]
                if gone:
                    await pubsub.sunsubscribe(*gone)
                    for channel in gone:
                        self._channels_ready.discard(joined.pop(channel))
            if not joined:
                await asyncio.sleep(PUBSUB_POLL_S)
                continue
            message = await pubsub.get_sharded_message(timeout=PUBSUB_POLL_S)
            backoff.succeeded()
            target = joined.get(as_bytes(message["channel"])) if message is not None else None
            if message is None or target is None:
                continue
            if message.get("type") == "ssubscribe":
                self._channel_joined(target)
            elif message.get("type") == "smessage":
                self._relayed(target, as_bytes(message["data"]))

    def _channel_joined(self, room: RoomId) -> None:
        """Redis confirmed the room's channel: from now on nothing published there is missed; ask who is here."""
        self._channels_ready.add(room)
        self._mark(room)  # news published while we were not listening
        waiter = self._channel_waiters.pop(room, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._send(room, encode_relay(QUERY, self.node_id))

    def _relayed(self, room: RoomId, data: bytes) -> None:
        sub = self._subs.get(room)
        if sub is None:
            return
        try:
            kind, node, payload = decode_relay(data)
        except ValueError:
            logger.warning("room %s: a malformed awareness message was ignored", room, extra={"room": room})
            return
        if node == self.node_id:
            return
        try:
            if kind == NEWS:
                if int(payload) > sub.delivered:
                    self._mark(room)
            elif kind == AWARENESS:
                sub.on_awareness(payload)
            elif kind == QUERY and sub.local_awareness is not None and (states := sub.local_awareness()):
                self._send(room, encode_relay(AWARENESS, self.node_id, states))
        except Exception:
            logger.exception("room %s: relaying awareness failed", room, extra={"room": room})


def _decoded(room: RoomId, entry_id: bytes, fields: Any) -> LogRecord | None:
    """The record of a stream entry; None (and an error logged) for a malformed one."""
    try:
        seq = seq_of(entry_id)
        record = decode_record(as_bytes((fields or {}).get(b"r")))
    except (ValueError, CandorError) as exc:
        logger.error("room %s: stream entry %r is malformed (%s); skipped", room, entry_id, exc, extra={"room": room})
        return None
    if record.seq != seq or record.room != room:
        logger.error("room %s: stream entry %r holds another record; skipped", room, entry_id, extra={"room": room})
        return None
    return record
