"""What the Redis backend's parts share: the client, the keys of a room, reading its records, compaction.

Keys carry the room as a hash tag, so one room lives on one Redis Cluster shard
(every name is made in redis_names.py):

``candor:{ROOM}:log``       stream; entry ``<seq>-0`` with field ``r`` = encode_record(record)
``candor:{ROOM}:head``      the room's last seq
``candor:{ROOM}:clock``     time_ms of its last record: a room's times never go backwards
``candor:{ROOM}:snap``      hash seq -> encode_snapshot(snapshot); every snapshot is kept
``candor:{ROOM}:snapseqs``  sorted set of those seqs, for "the latest at or before"
``candor:{ROOM}:archive``   hash chunk start -> encode_chunk(records): entries compacted out of the stream
``candor:{ROOM}:purged``    hash note id -> ms of its purge
``candor:{ROOM}:gen``       bumped by each purge: a copy of the room loaded before it writes no snapshot
``candor:rooms``            set of every room name (the one key outside any room's slot)

Compaction: after a snapshot at seq S, whole chunks of records at or below
S - ``retain_records`` move from the stream into the archive. Each move is one
script (compare-and-set the chunk, then XTRIM MINID), so every record is at any
moment in the stream or in the archive, and any past state stays exactly
rebuildable from the snapshots and the records.

Redis's errors become Candor's in one place, :meth:`RedisBackend._translated`.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Self

from redis.exceptions import RedisError

from candor.errors import CorruptRecord, LogUnavailable
from candor.ids import RoomId, Seq
from candor.log.codec import decode_chunk, encode_chunk
from candor.log.redis_client import Client, as_bytes, connect
from candor.log.redis_names import NEWS, encode_relay, room_key, seq_of, stream_id
from candor.log.redis_scripts import APPEND_SCRIPT, REBUILD_STREAM_SCRIPT, SNAPSHOT_SCRIPT, SWAP_SCRIPT

# Every key a room has (see the module docstring): erasing a room deletes them all.
ROOM_PARTS = ("log", "head", "clock", "snap", "snapseqs", "archive", "purged", "gen")
CHUNK_RECORDS = 128
RETAIN_RECORDS = 1000
PAGE_RECORDS = 1000
MAX_SWAP_ATTEMPTS = 20


class RedisBackend:
    """The client and what every part of the backend (log, snapshots, redaction) keeps per room."""

    def __init__(
        self,
        client: Client,
        *,
        node_id: bytes | None = None,
        chunk_records: int = CHUNK_RECORDS,
        retain_records: int = RETAIN_RECORDS,
        wait_replicas: int = 0,
    ) -> None:
        """``node_id``: the id this process's broker goes by; appends are announced with it (None: not at all)."""
        self._redis = client
        self._chunk = chunk_records
        self._retain = retain_records
        self._wait_replicas = wait_replicas
        # How appends are announced to the other processes (see redis_names.py); a tool announces nothing.
        self._news = encode_relay(NEWS, node_id) if node_id is not None else b""
        self._append = client.register_script(APPEND_SCRIPT)
        self._swap = client.register_script(SWAP_SCRIPT)
        self._rebuild_stream = client.register_script(REBUILD_STREAM_SCRIPT)
        self._snapshot_script = client.register_script(SNAPSHOT_SCRIPT)
        # The generation each room was at when this process loaded it (see SNAPSHOT_SCRIPT).
        self._generations: dict[RoomId, int] = {}
        # Last (head, clock) seen per room: the first guess of the next append, and how far the log must reach.
        self._tips: dict[RoomId, tuple[int, int]] = {}
        self._closed = False

    @classmethod
    async def connect(cls, url: str, *, node_id: bytes | None = None, **options: int) -> Self:
        """A backend on the Redis (or Redis Cluster) at ``url``; LogUnavailable when it does not answer."""
        return cls(await connect(url), node_id=node_id, **options)

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

    # -- reading records -------------------------------------------------------

    async def _xrange(self, room: RoomId, low: str, high: str, count: int | None = None) -> list[tuple[int, bytes]]:
        """``(seq, encoded record)`` of the stream entries from ``low`` to ``high`` (ids or ``-``/``+``)."""
        page = await self._redis.xrange(room_key(room, "log"), low, high, count)
        try:
            return [(seq_of(as_bytes(entry_id)), as_bytes((fields or {}).get(b"r"))) for entry_id, fields in page or ()]
        except ValueError as exc:
            raise CorruptRecord(f"room {room}: a stream entry's id is not a seq: {exc}") from exc

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

    # -- compaction ------------------------------------------------------------

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

    async def close(self) -> None:
        """Release the client (idempotent); later calls raise LogUnavailable."""
        if self._closed:
            return
        self._closed = True
        await self._redis.aclose()
