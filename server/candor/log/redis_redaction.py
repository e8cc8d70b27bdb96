"""Redaction and erasure in Redis: records archived and rewritten in place, then every node's files rewritten."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from candor.errors import LogUnavailable
from candor.ids import RoomId, Seq
from candor.log.base import LogRecord, SnapshotRecord
from candor.log.codec import decode_chunk, decode_record, decode_snapshot, encode_chunk, encode_record, encode_snapshot
from candor.log.redaction import UpdateRewrite
from candor.log.redis_base import MAX_SWAP_ATTEMPTS, ROOM_PARTS, RedisBackend
from candor.log.redis_client import as_bytes, rewrite_persistence
from candor.log.redis_names import ROOMS_KEY, room_key


class RedisRedaction(RedisBackend):
    """:class:`~candor.log.redaction.Redaction` and :class:`~candor.log.erase.RoomEraser` on Redis."""

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
