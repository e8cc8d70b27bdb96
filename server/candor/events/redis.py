"""Events, their rooms and the token secret in Redis, shared by every process of ``candor serve --redis-url``.

Keys: ``candor:{EVENT}:event`` (hash: title, template as JSON, created_ms,
join_code, epoch, and the facilitator's details as JSON), ``candor:{EVENT}:rooms`` (sorted set of room ids by
position), ``candor:{ROOM}:room`` (hash: event_id, kind, label, position; the
room's hash tag, so it sits beside the room's log on a cluster) and
``candor:secret``. An event is written after its rooms, so it is never seen
without them.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from candor.errors import LogConflict, LogUnavailable
from candor.events.store import EventRecord, RoomRecord
from candor.log.redis import as_bytes, connect

SECRET_KEY = "candor:secret"

# KEYS: the room's hash. ARGV: field, value, ... Adds the room unless it exists.
ADD_ROOM_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""


def _event_key(event_id: str) -> str:
    return f"candor:{{{event_id}}}:event"


def _rooms_key(event_id: str) -> str:
    return f"candor:{{{event_id}}}:rooms"


def _room_key(room_id: str) -> str:
    return f"candor:{{{room_id}}}:room"


def _code_key(join_code: str) -> str:
    return f"candor:joincode:{join_code}"


def _room_fields(room: RoomRecord) -> dict[str, str | int]:
    return {"id": room.id, "event_id": room.event_id, "kind": room.kind, "label": room.label, "position": room.position}


def _text(fields: Mapping[Any, Any], name: str) -> str:
    return as_bytes(fields[name.encode()]).decode()


class RedisEventStore:
    """The event store of ``--redis-url``: every process sees the same events, rooms and epochs."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client
        self._add_room = client.register_script(ADD_ROOM_SCRIPT)

    @classmethod
    def from_url(cls, url: str) -> RedisEventStore:
        return cls(connect(url))

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except RedisError as exc:
            raise LogUnavailable(f"the event store (Redis) is temporarily unavailable: {exc}") from exc

    async def shared_secret(self) -> bytes:
        """The token secret every process signs with: the first process to start makes it."""
        with self._translated():
            await self._redis.set(SECRET_KEY, secrets.token_bytes(32), nx=True)
            return as_bytes(await self._redis.get(SECRET_KEY))

    async def create(self, event: EventRecord, rooms: list[RoomRecord]) -> None:
        with self._translated():
            for room in rooms:
                if not await self._add_room([_room_key(room.id)], [v for kv in _room_fields(room).items() for v in kv]):
                    raise LogConflict(f"room {room.id} already exists")
            if rooms:
                await self._redis.zadd(_rooms_key(event.id), {room.id: room.position for room in rooms})
            await self._redis.hset(
                _event_key(event.id),
                mapping={
                    "id": event.id,
                    "title": event.title,
                    "template": json.dumps(event.template),
                    "created_ms": event.created_ms,
                    "join_code": event.join_code,
                    "epoch": event.epoch,
                },
            )
            await self._redis.set(_code_key(event.join_code), event.id)

    async def event(self, event_id: str) -> EventRecord | None:
        with self._translated():
            fields = await self._redis.hgetall(_event_key(event_id))
        if not fields:
            return None
        return EventRecord(
            _text(fields, "id"),
            _text(fields, "title"),
            json.loads(_text(fields, "template")),
            int(_text(fields, "created_ms")),
            _text(fields, "join_code"),
            int(_text(fields, "epoch")),
        )

    async def room(self, room_id: str) -> RoomRecord | None:
        with self._translated():
            fields = await self._redis.hgetall(_room_key(room_id))
        return _room_record(fields) if fields else None

    async def rooms(self, event_id: str) -> list[RoomRecord]:
        with self._translated():
            ids = await self._redis.zrange(_rooms_key(event_id), 0, -1)
            pipe = self._redis.pipeline(transaction=False)
            for room_id in ids:
                pipe.hgetall(_room_key(as_bytes(room_id).decode()))
            found = await pipe.execute()
        return [_room_record(fields) for fields in found if fields]

    async def add_room(self, room: RoomRecord) -> None:
        with self._translated():
            if not await self._add_room([_room_key(room.id)], [v for kv in _room_fields(room).items() for v in kv]):
                raise LogConflict(f"room {room.id} already exists; try again")
            await self._redis.zadd(_rooms_key(room.event_id), {room.id: room.position})

    async def rename_room(self, room_id: str, label: str) -> None:
        with self._translated():
            if await self._redis.exists(_room_key(room_id)):
                await self._redis.hset(_room_key(room_id), "label", label)

    async def event_by_code(self, join_code: str) -> str | None:
        with self._translated():
            found = await self._redis.get(_code_key(join_code))
        return as_bytes(found).decode() if found else None

    async def bump_epoch(self, event_id: str, join_code: str) -> int:
        with self._translated():
            old = await self._redis.hget(_event_key(event_id), "join_code")
            pipe = self._redis.pipeline(transaction=True)
            pipe.hincrby(_event_key(event_id), "epoch", 1)
            pipe.hset(_event_key(event_id), "join_code", join_code)
            if old:
                pipe.delete(_code_key(as_bytes(old).decode()))
            pipe.set(_code_key(join_code), event_id)
            epoch = (await pipe.execute())[0]
        return int(epoch)

    async def details(self, event_id: str) -> dict[str, Any]:
        with self._translated():
            raw = await self._redis.hget(_event_key(event_id), "details")
        found = json.loads(as_bytes(raw)) if raw else {}
        return found if isinstance(found, dict) else {}

    async def set_details(self, event_id: str, details: dict[str, Any]) -> None:
        with self._translated():
            if await self._redis.exists(_event_key(event_id)):
                await self._redis.hset(_event_key(event_id), "details", json.dumps(details))

    async def close(self) -> None:
        await self._redis.aclose()


def _room_record(fields: Mapping[Any, Any]) -> RoomRecord:
    return RoomRecord(
        _text(fields, "id"),
        _text(fields, "event_id"),
        _text(fields, "kind"),
        _text(fields, "label"),
        int(_text(fields, "position")),
    )
