"""Snapshots in Redis: a hash of every snapshot of a room, a sorted set of their seqs; each one compacts the stream."""

from __future__ import annotations

import logging

from candor.errors import LogUnavailable, RoomOutdated
from candor.ids import RoomId, Seq
from candor.log.base import SnapshotRecord
from candor.log.codec import decode_snapshot, encode_snapshot
from candor.log.redis_base import RedisBackend
from candor.log.redis_client import as_bytes
from candor.log.redis_names import room_key

logger = logging.getLogger("candor.log.redis")


class RedisSnapshots(RedisBackend):
    """:class:`~candor.log.snapshots.Snapshots` on Redis; a purge moves a room to a new generation (see ``gen``)."""

    async def write_snapshot(self, snapshot: SnapshotRecord) -> None:
        """As Snapshots says; :class:`~candor.errors.RoomOutdated` when a purge rewrote the room since it was loaded."""
        room = snapshot.room
        keys = [room_key(room, "snap"), room_key(room, "snapseqs"), room_key(room, "gen")]
        with self._translated("writing a snapshot"):
            generation = self._generations.get(room)
            if generation is None:  # never loaded here: nothing of it held from before
                generation = self._generations[room] = int(await self._redis.get(room_key(room, "gen")) or 0)
            args: list[bytes | str | int] = [str(snapshot.seq), encode_snapshot(snapshot), generation]
            written = await self._snapshot_script(keys, args)
        if not written:
            raise RoomOutdated(f"room {room} was purged since this process loaded it; it must load again")
        try:
            await self.compact(snapshot.room, Seq(snapshot.seq - self._retain))
        except LogUnavailable as exc:
            # The snapshot is stored; the stream is only longer than it needs to be until the next one.
            logger.warning("room %s: compaction failed: %s", snapshot.room, exc.message, extra={"room": snapshot.room})

    async def latest_snapshot(self, room: RoomId, at_or_before: Seq | None = None) -> SnapshotRecord | None:
        """As Snapshots says; the latest one (a room loading) also notes the room's generation."""
        limit: int | str = "+inf" if at_or_before is None else at_or_before
        with self._translated("reading a snapshot"):
            if at_or_before is None:
                self._generations[room] = int(await self._redis.get(room_key(room, "gen")) or 0)
            seqs = await self._redis.zrevrangebyscore(room_key(room, "snapseqs"), limit, "-inf", start=0, num=1)
            if not seqs:
                return None
            data = await self._redis.hget(room_key(room, "snap"), as_bytes(seqs[0]))
        return decode_snapshot(as_bytes(data)) if data is not None else None
