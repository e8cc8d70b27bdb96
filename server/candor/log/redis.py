"""The shared backend of ``candor serve --redis-url``: each room's records in a Redis Stream whose entry id is the seq.

The log's own part is here (:class:`~candor.log.base.EventLog`); the keys,
reads and compaction are in redis_base.py, snapshots in redis_snapshots.py,
redaction and erasure in redis_redaction.py, the Lua scripts in redis_scripts.py.

Appending is one Lua script that checks the head (and clock) the caller
numbered its records from, adds them with explicit ids and moves the head, so
processes sharing Redis may append to one room. A caller whose guess was stale
renumbers and tries again: the records are framed in Python because their
bytes carry their seq and must be msgpack ``bin`` (which Lua's cmsgpack cannot
write). The script announces the append on the room's channel with the node id
the log was made with, so the broker of that process skips its own news.

Replication (``wait_replicas`` N > 0, ``--redis-wait-replicas``): the script
and a ``WAIT N`` go on one connection, so the append is answered only once N
replicas of the room's shard have it, and its news is published only then. A
failover to such a replica loses none of it. Should the replicas not confirm in
:data:`WAIT_TIMEOUT_MS`, the append raises LogUnavailable (the records stay in
the log; the room reloads). A log found behind what this process already saw of
it (a failover lost acknowledged records, without N > 0) raises LogUnavailable
too, so the room reloads and its clients resync rather than diverge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.exceptions import NoScriptError

from candor.errors import LogConflict, LogUnavailable
from candor.ids import RoomId, Seq
from candor.log.base import Entry, LogRecord, numbered
from candor.log.codec import decode_chunk, decode_record, encode_record
from candor.log.redis_client import as_bytes, is_cluster
from candor.log.redis_names import ROOMS_KEY, room_channel, room_key, stream_id
from candor.log.redis_redaction import RedisRedaction
from candor.log.redis_scripts import APPEND_SCRIPT
from candor.log.redis_snapshots import RedisSnapshots

__all__ = ["RedisLog"]

MAX_APPEND_ATTEMPTS = 50
WAIT_TIMEOUT_MS = 1000
# How often a WAIT is tried again on the node a MOVED or ASK sent the append to (a slot moving), 50 ms apart.
MAX_WAIT_REROUTES = 40


class RedisLog(RedisSnapshots, RedisRedaction):
    """``RedisLog(client, node_id=..., ...)`` or ``await RedisLog.connect(url, ...)``; see the module docstring."""

    # -- appending -----------------------------------------------------------

    async def append(self, room: RoomId, entries: Sequence[Entry], expect_head: Seq | None = None) -> list[LogRecord]:
        if not entries and expect_head is None:
            return []
        known, clock = self._tips.get(room, (0, 0))
        head = known if expect_head is None else expect_head
        keys = [room_key(room, "head"), room_key(room, "clock"), room_key(room, "log")]
        channel = room_channel(room)
        # Replicated appends are announced once the replicas have them (see _replicated).
        news = self._news if self._wait_replicas == 0 else b""
        with self._translated("appending"):
            for _ in range(MAX_APPEND_ATTEMPTS):
                records = numbered(room, entries, head, clock)
                times = [records[0].time_ms, records[-1].time_ms] if records else [0, 0]
                mode = "exact" if expect_head is not None else "next"
                if head == 0:
                    await self._redis.sadd(ROOMS_KEY, room)
                args = [mode, head, *times, channel, news, "", *(encode_record(r) for r in records)]
                reply = await self._run_append(room, keys, args)
                outcome, actual_head, actual_clock = reply[0], int(reply[1]), int(reply[2])
                if outcome == b"ok":
                    self._tips[room] = (head + len(records), times[1] if records else actual_clock)
                    if records and self._wait_replicas:
                        await self._replicated(room, reply, head + len(records))
                    return records
                if actual_head < known:
                    self._tips.pop(room, None)
                    raise LogUnavailable(
                        f"room {room}: the log is at seq {actual_head}, behind seq {known} this process saw: "
                        "Redis lost acknowledged records (a failover?); the room reloads"
                    )
                if outcome == b"conflict":
                    raise LogConflict(f"room {room} is at seq {actual_head}, not {expect_head}")
                head, clock = actual_head, actual_clock
        raise LogUnavailable(f"room {room}: too many writers at once; try again")

    async def _run_append(self, room: RoomId, keys: list[str], args: list[Any]) -> list[Any]:
        """The append script; with ``wait_replicas``, followed on its connection by WAIT (and CLUSTER MYID).

        WAIT counts the replicas holding what its own connection wrote, so on a
        cluster the script names the node it ran on: a MOVED or ASK (a slot
        moving) may have sent it elsewhere. Then a touch of the room on the
        node that now serves it, and WAIT after that, covers the append.
        """
        if self._wait_replicas == 0:
            reply: list[Any] = await self._append(keys, args)
            return reply
        reply = await self._append_and_wait(keys, args)
        if is_cluster(self._redis):
            for _ in range(MAX_WAIT_REROUTES):
                if reply[-1] >= 0:
                    break
                await asyncio.sleep(0.05)
                touched = await self._append_and_wait(keys, ["touch", 0, 0, 0, "", "", ""])
                reply[-1] = touched[-1]
        return reply

    async def _append_and_wait(self, keys: list[str], args: list[Any]) -> list[Any]:
        """The script's reply, and the WAIT's count last (-1: the script ran on another node than the WAIT)."""
        target: dict[str, Any] = {}
        cluster = is_cluster(self._redis)
        if cluster:
            target["target_nodes"] = self._redis.get_node_from_key(keys[0])  # type: ignore[union-attr]
        for _ in range(2):
            pipe = self._redis.pipeline(transaction=False)
            pipe.evalsha(self._append.sha, len(keys), *keys, *args[:6], "id" if cluster else "", *args[7:])
            pipe.execute_command("WAIT", self._wait_replicas, WAIT_TIMEOUT_MS, **target)
            if cluster:
                pipe.execute_command("CLUSTER", "MYID", **target)
            replies = await pipe.execute(raise_on_error=False)
            if isinstance(replies[0], NoScriptError):  # a node new to the cluster (a promoted replica)
                await self._redis.script_load(APPEND_SCRIPT)
                continue
            for answer in replies:
                if isinstance(answer, Exception):
                    raise answer
            script_reply: list[Any] = list(replies[0])
            same_node = not cluster or as_bytes(script_reply[3]) == as_bytes(replies[2])
            script_reply.append(int(replies[1]) if same_node else -1)
            return script_reply
        raise LogUnavailable("Redis keeps forgetting the append script; try again")

    async def _replicated(self, room: RoomId, reply: list[Any], new_head: int) -> None:
        """Raise unless enough replicas confirmed the append; then announce it."""
        confirmed = int(reply[-1])
        if confirmed < self._wait_replicas:
            why = "the room's slot moved meanwhile" if confirmed < 0 else f"{confirmed} of {self._wait_replicas}"
            raise LogUnavailable(
                f"room {room}: the replicas did not confirm the update within {WAIT_TIMEOUT_MS} ms ({why}); "
                "it is kept on the primary but not yet safe from a failover; the room reloads"
            )
        if self._news:
            await self._redis.spublish(room_channel(room), self._news + b"%d" % new_head)

    def saw(self, room: RoomId, head: int) -> None:
        """Records of ``room`` up to ``head`` were delivered here: a later append that finds the log behind raises."""
        known, clock = self._tips.get(room, (0, 0))
        if head > known:
            self._tips[room] = (head, clock)

    async def head(self, room: RoomId) -> Seq:
        with self._translated("reading the head"):
            return Seq(int(await self._redis.get(room_key(room, "head")) or 0))

    # -- reading -------------------------------------------------------------

    async def read(self, room: RoomId, after: Seq, upto: Seq | None = None) -> list[LogRecord]:
        with self._translated("reading"):
            head = int(await self._redis.get(room_key(room, "head")) or 0)
            end = head if upto is None else min(upto, head)
            if end <= after:
                return []
            # The stream first, the archive second: a record moves into the
            # archive before it leaves the stream, so it is found in one of them.
            found = await self._stream_records(room, after + 1, end)
            await self._archived_records(room, after + 1, end, found)
        missing = next((seq for seq in range(after + 1, end + 1) if seq not in found), None)
        if missing is not None:
            raise LogUnavailable(f"room {room}: record {missing} is in neither the stream nor the archive")
        return [decode_record(found[seq]) for seq in range(after + 1, end + 1)]

    async def seq_at_time(self, room: RoomId, time_ms: int) -> Seq:
        """Binary search over the records: their times never go backwards within a room (see ``append``)."""
        with self._translated("searching by time"):
            head = int(await self._redis.get(room_key(room, "head")) or 0)
            chunks: dict[int, list[bytes]] = {}

            async def time_of(seq: int) -> int:
                page = await self._xrange(room, stream_id(seq), stream_id(seq))
                if page:
                    return decode_record(page[0][1]).time_ms
                start = self._chunk_start(seq)
                if start not in chunks:
                    chunk = await self._redis.hget(room_key(room, "archive"), str(start))
                    chunks[start] = decode_chunk(as_bytes(chunk)) if chunk else []
                if seq - start >= len(chunks[start]):
                    raise LogUnavailable(f"room {room}: record {seq} is in neither the stream nor the archive")
                return decode_record(chunks[start][seq - start]).time_ms

            if head == 0 or await time_of(head) <= time_ms:
                return Seq(head)
            low, high = 0, head - 1  # the answer is in low..high; record high+1 is later than time_ms
            while low < high:
                middle = (low + high + 1) // 2
                if await time_of(middle) <= time_ms:
                    low = middle
                else:
                    high = middle - 1
            return Seq(low)

    # -- rooms and lifecycle -------------------------------------------------------

    async def rooms(self) -> list[RoomId]:
        with self._translated("listing rooms"):
            names = sorted(as_bytes(name).decode() for name in await self._redis.smembers(ROOMS_KEY))
            pipe = self._redis.pipeline(transaction=False)
            for name in names:
                pipe.get(room_key(RoomId(name), "head"))
            heads = await pipe.execute()
        # A room is listed before its first append, which may have failed.
        return [RoomId(name) for name, head in zip(names, heads, strict=True) if int(head or 0) > 0]
