"""Redis event log: each room's records in a Redis Stream whose entry id is the seq, snapshots and archive beside it.

Keys carry the room as a hash tag, so one room lives on one Redis Cluster shard:

``candor:{ROOM}:log``       stream; entry ``<seq>-0`` with field ``r`` = encode_record(record)
``candor:{ROOM}:head``      the room's last seq
``candor:{ROOM}:clock``     time_ms of its last record: a room's times never go backwards
``candor:{ROOM}:snap``      hash seq -> encode_snapshot(snapshot); every snapshot is kept
``candor:{ROOM}:snapseqs``  sorted set of those seqs, for "the latest at or before"
``candor:{ROOM}:archive``   hash chunk start -> encode_chunk(records): entries compacted out of the stream
``candor:{ROOM}:purged``    hash note id -> ms of its purge
``candor:{ROOM}:gen``       bumped by each purge: a copy of the room loaded before it writes no snapshot
``candor:rooms``            set of every room name (the one key outside any room's slot)

Appending is one Lua script that checks the head (and clock) the caller
numbered its records from, adds them with explicit ids and moves the head, so
processes sharing Redis may append to one room. A caller whose guess was stale
renumbers and tries again: the records are framed in Python because their
bytes carry their seq and must be msgpack ``bin`` (which Lua's cmsgpack cannot
write).

Replication (``wait_replicas`` N > 0, ``--redis-wait-replicas``): the script
and a ``WAIT N`` go on one connection, so the append is answered only once N
replicas of the room's shard have it, and its news is published only then. A
failover to such a replica loses none of it. Should the replicas not confirm in
:data:`WAIT_TIMEOUT_MS`, the append raises LogUnavailable (the records stay in
the log; the room reloads). A log found behind what this process already saw of
it (a failover lost acknowledged records, without N > 0) raises LogUnavailable
too, so the room reloads and its clients resync rather than diverge.

Compaction: after a snapshot at seq S, whole chunks of records at or below
S - ``retain_records`` move from the stream into the archive. Each move is one
script (compare-and-set the chunk, then XTRIM MINID), so every record is at any
moment in the stream or in the archive, and any past state stays exactly
rebuildable from the snapshots and the records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from redis.exceptions import NoScriptError, RedisError

from candor.errors import LogConflict, LogUnavailable, RoomOutdated
from candor.ids import RoomId, Seq
from candor.log.base import Entry, LogRecord, SnapshotRecord, numbered
from candor.log.codec import (
    decode_chunk,
    decode_record,
    decode_snapshot,
    encode_chunk,
    encode_record,
    encode_snapshot,
)
from candor.log.redaction import UpdateRewrite
from candor.log.redis_client import Client, as_bytes, connect, is_cluster, rewrite_persistence

logger = logging.getLogger("candor.log.redis")

ROOMS_KEY = "candor:rooms"
# Every key a room has (see the module docstring): erasing a room deletes them all.
ROOM_PARTS = ("log", "head", "clock", "snap", "snapseqs", "archive", "purged", "gen")
CHUNK_RECORDS = 128
RETAIN_RECORDS = 1000
PAGE_RECORDS = 1000
MAX_APPEND_ATTEMPTS = 50
MAX_SWAP_ATTEMPTS = 20
WAIT_TIMEOUT_MS = 1000
# How often a WAIT is tried again on the node a MOVED or ASK sent the append to (a slot moving), 50 ms apart.
MAX_WAIT_REROUTES = 40

# KEYS: head, clock, log. ARGV: mode ("exact" | "next" | "touch"), expected head, first time, last time, news
# channel, news ('' = announce nothing), answer with the node's id ('id' | ''), records... The news (news .. new
# head) goes out with the append, on the room's shard channel, so the other processes holding the room read its
# stream. "touch" writes the clock back as it is: a write for a WAIT to wait for, after an append made elsewhere.
APPEND_SCRIPT = """
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
local clock = tonumber(redis.call('GET', KEYS[2]) or '0')
local node = ''
if ARGV[7] == 'id' then node = redis.call('CLUSTER', 'MYID') end
if ARGV[1] == 'touch' then
  redis.call('SET', KEYS[2], string.format('%d', clock))
  return {'ok', head, clock, node}
end
if head ~= tonumber(ARGV[2]) then
  if ARGV[1] == 'exact' then return {'conflict', head, clock, node} end
  return {'stale', head, clock, node}
end
local n = #ARGV - 7
if n > 0 and tonumber(ARGV[3]) < clock then return {'stale', head, clock, node} end
for i = 1, n do
  redis.call('XADD', KEYS[3], string.format('%d-0', head + i), 'r', ARGV[7 + i])
end
if n > 0 then
  redis.call('SET', KEYS[1], string.format('%d', head + n))
  redis.call('SET', KEYS[2], ARGV[4])
  if ARGV[6] ~= '' then redis.call('SPUBLISH', ARGV[5], ARGV[6] .. string.format('%d', head + n)) end
end
return {'ok', head, clock, node}
"""

# KEYS: hash[, stream]. ARGV: field, expected value ('' = absent), new value[, MINID to trim the stream to].
SWAP_SCRIPT = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if KEYS[2] then redis.call('XTRIM', KEYS[2], 'MINID', ARGV[4]) end
return 1
"""

# KEYS: snap hash, snapseqs, gen. ARGV: seq, snapshot, the generation its writer loaded the room at. A purge
# moves the room to a new generation: a process that still held the room from before writes no snapshot.
SNAPSHOT_SCRIPT = """
if tonumber(redis.call('GET', KEYS[3]) or '0') ~= tonumber(ARGV[3]) then return 0 end
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
return 1
"""

# KEYS: stream. Trimmed entries stay in a stream's nodes as tombstones; copying the live ones drops them.
REBUILD_STREAM_SCRIPT = """
local entries = redis.call('XRANGE', KEYS[1], '-', '+')
redis.call('DEL', KEYS[1])
for _, entry in ipairs(entries) do
  redis.call('XADD', KEYS[1], entry[1], unpack(entry[2]))
end
return #entries
"""


def room_key(room: RoomId, part: str) -> str:
    """The key of one of ``room``'s structures (``log``, ``head``, ``snap``, ...)."""
    return f"candor:{{{room}}}:{part}"


def stream_id(seq: int) -> str:
    return f"{seq}-0"


def seq_of(entry_id: bytes | str) -> int:
    """The seq a stream entry id stands for; ValueError for an id that is not ``<seq>-0``."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    seq, _, sub = text.partition("-")
    if sub != "0":
        raise ValueError(f"stream id {text!r} is not <seq>-0")
    return int(seq)


class RedisLog:
    """The shared backend of ``candor serve --redis-url``; see the module docstring for the layout."""

    def __init__(
        self,
        client: Client,
        *,
        chunk_records: int = CHUNK_RECORDS,
        retain_records: int = RETAIN_RECORDS,
        wait_replicas: int = 0,
    ) -> None:
        self._redis = client
        self._chunk = chunk_records
        self._retain = retain_records
        self._wait_replicas = wait_replicas
        self._append = client.register_script(APPEND_SCRIPT)
        self._swap = client.register_script(SWAP_SCRIPT)
        self._rebuild_stream = client.register_script(REBUILD_STREAM_SCRIPT)
        self._write_snapshot = client.register_script(SNAPSHOT_SCRIPT)
        # The generation each room was at when this process loaded it (see SNAPSHOT_SCRIPT).
        self._generations: dict[RoomId, int] = {}
        # Last (head, clock) seen per room: the first guess of the next append, and how far the log must reach.
        self._tips: dict[RoomId, tuple[int, int]] = {}
        # Set by the Redis broker of this process: how appends are announced to the others.
        self.news_prefix = b""
        self._closed = False

    @classmethod
    async def connect(cls, url: str, **options: int) -> RedisLog:
        """A log on the Redis (or Redis Cluster) at ``url``; LogUnavailable when it does not answer."""
        return cls(await connect(url), **options)

    @contextlib.contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        if self._closed:
            raise LogUnavailable("the event log is closed")
        try:
            yield
        except RedisError as exc:
            raise LogUnavailable(f"the event log (Redis) is temporarily unavailable while {doing}: {exc}") from exc

    def _chunk_start(self, seq: int) -> int:
        return (seq - 1) // self._chunk * self._chunk + 1

    # -- appending -----------------------------------------------------------

    async def append(self, room: RoomId, entries: Sequence[Entry], expect_head: Seq | None = None) -> list[LogRecord]:
        if not entries and expect_head is None:
            return []
        known, clock = self._tips.get(room, (0, 0))
        head = known if expect_head is None else expect_head
        keys = [room_key(room, "head"), room_key(room, "clock"), room_key(room, "log")]
        channel = room_key(room, "awareness")
        # Replicated appends are announced once the replicas have them (see _replicated).
        news = self.news_prefix if self._wait_replicas == 0 else b""
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
        if self.news_prefix:
            await self._redis.spublish(room_key(room, "awareness"), self.news_prefix + b"%d" % new_head)

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

    async def _xrange(self, room: RoomId, low: str, high: str, count: int | None = None) -> list[tuple[int, bytes]]:
        """``(seq, encoded record)`` of the stream entries from ``low`` to ``high`` (ids or ``-``/``+``)."""
        page = await self._redis.xrange(room_key(room, "log"), low, high, count)
        return [(seq_of(as_bytes(entry_id)), as_bytes((fields or {}).get(b"r"))) for entry_id, fields in page or ()]

    async def _stream_records(self, room: RoomId, first: int, last: int) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        start = first
        while start <= last:
            page = await self._xrange(room, stream_id(start), stream_id(last), PAGE_RECORDS)
            if not page:
                break
            found.update(page)
            start = page[-1][0] + 1
        return found

    async def _archived_records(self, room: RoomId, first: int, last: int, found: dict[int, bytes]) -> None:
        """Add the records of ``first..last`` missing from ``found`` from the archive chunks holding them."""
        present = sorted(found)
        starts = []
        for start in range(self._chunk_start(first), last + 1, self._chunk):
            low, high = max(start, first), min(start + self._chunk - 1, last)
            if bisect_right(present, high) - bisect_left(present, low) < high - low + 1:
                starts.append(start)
        for batch in range(0, len(starts), 64):
            wanted = starts[batch : batch + 64]
            chunks = await self._redis.hmget(room_key(room, "archive"), [str(s) for s in wanted])
            for start, chunk in zip(wanted, chunks, strict=True):
                for offset, blob in enumerate(decode_chunk(as_bytes(chunk)) if chunk else []):
                    found.setdefault(start + offset, blob)

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

    # -- snapshots and compaction ------------------------------------------------

    async def write_snapshot(self, snapshot: SnapshotRecord) -> None:
        """As EventLog says; :class:`~candor.errors.RoomOutdated` when a purge rewrote the room since it was loaded."""
        room = snapshot.room
        keys = [room_key(room, "snap"), room_key(room, "snapseqs"), room_key(room, "gen")]
        with self._translated("writing a snapshot"):
            generation = self._generations.get(room)
            if generation is None:  # never loaded here: nothing of it held from before
                generation = self._generations[room] = int(await self._redis.get(room_key(room, "gen")) or 0)
            args: list[bytes | str | int] = [str(snapshot.seq), encode_snapshot(snapshot), generation]
            written = await self._write_snapshot(keys, args)
        if not written:
            raise RoomOutdated(f"room {room} was purged since this process loaded it; it must load again")
        try:
            await self.compact(snapshot.room, Seq(snapshot.seq - self._retain))
        except LogUnavailable as exc:
            # The snapshot is stored; the stream is only longer than it needs to be until the next one.
            logger.warning("room %s: compaction failed: %s", snapshot.room, exc.message, extra={"room": snapshot.room})

    async def compact(self, room: RoomId, upto: Seq, *, whole_chunks: bool = True) -> int:
        """Move the stream's records up to ``upto`` into the archive (whole chunks only, unless told); how many."""
        target = upto // self._chunk * self._chunk if whole_chunks else int(upto)
        moved = failures = 0
        with self._translated("compacting"):
            while failures < MAX_SWAP_ATTEMPTS:
                oldest = await self._xrange(room, "-", "+", 1)
                if not oldest or (first := oldest[0][0]) > target:
                    return moved
                start = self._chunk_start(first)
                last = min(start + self._chunk - 1, target)
                moving = await self._stream_records(room, first, last)
                if len(moving) != last - first + 1:
                    raise LogUnavailable(f"room {room}: the stream has a gap between seqs {first} and {last}")
                existing = await self._redis.hget(room_key(room, "archive"), str(start))
                kept = decode_chunk(as_bytes(existing)) if existing else []
                if start + len(kept) != first:
                    raise LogUnavailable(f"room {room}: archive chunk {start} does not end where the stream begins")
                merged = encode_chunk(kept + [moving[seq] for seq in range(first, last + 1)])
                keys = [room_key(room, "archive"), room_key(room, "log")]
                if await self._swap(keys, [str(start), existing or b"", merged, stream_id(last + 1)]):
                    moved += last - first + 1
                else:
                    failures += 1  # another process moved or rewrote this chunk meanwhile: look again
        raise LogUnavailable(f"room {room}: compaction kept losing races; it resumes after the next snapshot")

    async def latest_snapshot(self, room: RoomId, at_or_before: Seq | None = None) -> SnapshotRecord | None:
        """As EventLog says; the latest one (a room loading) also notes the room's generation."""
        limit: int | str = "+inf" if at_or_before is None else at_or_before
        with self._translated("reading a snapshot"):
            if at_or_before is None:
                self._generations[room] = int(await self._redis.get(room_key(room, "gen")) or 0)
            seqs = await self._redis.zrevrangebyscore(room_key(room, "snapseqs"), limit, "-inf", start=0, num=1)
            if not seqs:
                return None
            data = await self._redis.hget(room_key(room, "snap"), as_bytes(seqs[0]))
        return decode_snapshot(as_bytes(data)) if data is not None else None

    # -- purging -------------------------------------------------------------

    async def redact(self, rooms: Sequence[RoomId], rewrite: UpdateRewrite, forget: Collection[bytes] = ()) -> int:
        """Archive every record (streams cannot be edited), rewrite archive and snapshots, then rewrite the AOF."""
        if not rooms:
            return 0
        changed = 0
        with self._translated("purging"):
            for room in rooms:
                changed += await self._redact_room(room, rewrite)
            await rewrite_persistence(self._redis)
        return changed

    async def _redact_room(self, room: RoomId, rewrite: UpdateRewrite) -> int:
        await self._redis.incr(room_key(room, "gen"))  # whoever still holds the room from before writes nothing back
        changed = 0
        for _ in range(MAX_SWAP_ATTEMPTS):
            head = int(await self._redis.get(room_key(room, "head")) or 0)
            await self.compact(room, Seq(head), whole_chunks=False)
            await self._rebuild_stream([room_key(room, "log")], [])
            changed += await self._rewrite_hash(room_key(room, "archive"), lambda chunk: _rewrite_chunk(chunk, rewrite))
            # Another process may have appended meanwhile: archive and rewrite that too.
            if int(await self._redis.get(room_key(room, "head")) or 0) == head:
                break
        changed += await self._rewrite_hash(room_key(room, "snap"), lambda data: _rewrite_snapshot(data, rewrite))
        return changed

    async def _rewrite_hash(self, key: str, rewrite: Callable[[bytes], tuple[bytes, int]]) -> int:
        """Apply ``rewrite`` (value -> new value, count changed) to every field, each by compare-and-set."""
        changed = 0
        for field, stored in (await self._redis.hgetall(key)).items():
            value = as_bytes(stored)
            for _ in range(MAX_SWAP_ATTEMPTS):
                new, count = rewrite(value)
                if count == 0 or await self._swap([key], [field, value, new]):
                    changed += count
                    break
                value = as_bytes(await self._redis.hget(key, field) or b"")
            else:
                raise LogUnavailable(f"{key} kept changing during the purge; try again")
        return changed

    async def mark_purged(self, room: RoomId, note_ids: Sequence[str], time_ms: int) -> None:
        with self._translated("marking purged notes"):
            pipe = self._redis.pipeline(transaction=False)  # each one idempotent
            for note_id in note_ids:
                pipe.hsetnx(room_key(room, "purged"), note_id, time_ms)
            await pipe.execute()

    async def purged_notes(self, room: RoomId) -> dict[str, int]:
        with self._translated("reading purged notes"):
            stored = await self._redis.hgetall(room_key(room, "purged"))
        return {as_bytes(note).decode(): int(ms) for note, ms in stored.items()}

    # -- erasing -------------------------------------------------------------

    async def erase_rooms(self, rooms: Sequence[RoomId]) -> int:
        """Delete every key of the rooms, then rewrite the AOF (see :class:`~candor.log.erase.RoomEraser`)."""
        if not rooms:
            return 0
        with self._translated("erasing rooms"):
            pipe = self._redis.pipeline(transaction=False)
            for room in rooms:
                pipe.delete(*(room_key(room, part) for part in ROOM_PARTS))
                pipe.srem(ROOMS_KEY, room)
            replies = await pipe.execute()
            for room in rooms:
                self._tips.pop(room, None)
            await rewrite_persistence(self._redis)
        return sum(1 for deleted in replies[::2] if int(deleted))

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

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._redis.aclose()


def _rewrite_chunk(chunk: bytes, rewrite: UpdateRewrite) -> tuple[bytes, int]:
    blobs = decode_chunk(chunk)
    changed = 0
    for position, blob in enumerate(blobs):
        record = decode_record(blob)
        update = rewrite(record.update)
        if update != record.update:
            blobs[position] = encode_record(LogRecord(record.room, record.seq, record.time_ms, record.origin, update))
            changed += 1
    return encode_chunk(blobs), changed


def _rewrite_snapshot(data: bytes, rewrite: UpdateRewrite) -> tuple[bytes, int]:
    snapshot = decode_snapshot(data)
    state = rewrite(snapshot.state)
    if state == snapshot.state:
        return data, 0
    return encode_snapshot(SnapshotRecord(snapshot.room, snapshot.seq, snapshot.time_ms, state)), 1
