"""Events, their rooms and the token secret in Redis, shared by every process of ``candor serve --redis-url``.

Keys: ``candor:{EVENT}:event`` (hash: title, template as JSON, created_ms,
join_code, epoch, and the facilitator's details as JSON), ``candor:{EVENT}:rooms`` (sorted set of room ids by
position), ``candor:{ROOM}:room`` (hash: event_id, kind, label, position; the
room's hash tag, so it sits beside the room's log on a cluster) and
``candor:secret``. An event is written after its rooms, so it is never seen
without them; ``candor:events`` is the set of every event's id. Erasing an
event deletes its keys first, then its rooms'.

On a Redis Cluster an event's keys share its slot and a room's its room's; the
few global keys (``candor:secret``, ``candor:events``, ``candor:joincode:CODE``,
and the control channel) each sit in a slot of their own, and no command names
keys of two slots: what must change together is ordered so that a failure
between two steps leaves nothing wrong (a join code is only a pointer; joining
checks the event's own code).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping, Sequence
from typing import Any

from redis.exceptions import RedisError

from candor.errors import LogConflict, LogUnavailable
from candor.log.redis_client import Client, as_bytes, connect, rewrite_persistence
from candor.workshops.controls import HOLD_REASONS, Hold, Revoke
from candor.workshops.store import EventRecord, RoomRecord

logger = logging.getLogger("candor.workshops.redis")

SECRET_KEY = "candor:secret"
EVENTS_KEY = "candor:events"
CONTROL_CHANNEL = "candor:control"
# How long an eraser waits for every process to hold the rooms, and the longest a process holds them.
HOLD_ANSWER_S = 10.0
HOLD_MAX_S = 120.0
LISTEN_POLL_S = 0.5

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

    def __init__(self, client: Client) -> None:
        self._redis = client
        self._add_room = client.register_script(ADD_ROOM_SCRIPT)

    @classmethod
    async def connect(cls, url: str) -> RedisEventStore:
        """The event store on the Redis (or Redis Cluster) at ``url``; LogUnavailable when it does not answer."""
        return cls(await connect(url))

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
            await self._redis.sadd(EVENTS_KEY, event.id)

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
            # The new code finds the event before the event takes it; the old one finds nothing after.
            await self._redis.set(_code_key(join_code), event_id)
            pipe = self._redis.pipeline(transaction=False)  # one key, so one node, in order
            pipe.hincrby(_event_key(event_id), "epoch", 1)
            pipe.hset(_event_key(event_id), "join_code", join_code)
            epoch = (await pipe.execute())[0]
            if old:
                await self._redis.delete(_code_key(as_bytes(old).decode()))
        return int(epoch)

    async def event_ids(self) -> list[str]:
        with self._translated():
            ids = await self._redis.smembers(EVENTS_KEY)
        return sorted(as_bytes(event_id).decode() for event_id in ids)

    async def erase_event(self, event_id: str) -> bool:
        with self._translated():
            fields = await self._redis.hgetall(_event_key(event_id))
            rooms = [as_bytes(room).decode() for room in await self._redis.zrange(_rooms_key(event_id), 0, -1)]
            pipe = self._redis.pipeline(transaction=False)
            if fields:
                pipe.delete(_code_key(_text(fields, "join_code")))
            pipe.delete(_event_key(event_id), _rooms_key(event_id))
            for room in rooms:
                pipe.delete(_room_key(room))
            pipe.srem(EVENTS_KEY, event_id)
            await pipe.execute()
            await rewrite_persistence(self._redis)
        return bool(fields)

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


class RedisControls:
    """Carries controls to every process sharing this Redis, over the shard channel ``candor:control``.

    A purge or an erasure publishes ``hold`` (an id, the rooms and why); every
    process listening, itself included, holds the rooms (closes their
    connections, keeps them unloaded) and answers ``held``. SPUBLISH says how
    many processes heard it, so the sender knows how many answers to wait for:
    on a cluster every process listens on the primary of the channel's slot,
    the node that takes the SPUBLISH and counts them (a plain PUBLISH there
    would count only the listeners of the node it happened to reach).
    When the block ends it publishes ``release``; a process that never hears it
    lets go after :data:`HOLD_MAX_S`. A revocation publishes ``revoke`` (an id
    and the event); every process closes the event's participants and answers
    ``revoked`` with how many it closed.
    """

    def __init__(self, client: Client, hold: Hold, revoke: Revoke) -> None:
        self._redis = client
        self._hold = hold
        self._revoke = revoke
        self._node = secrets.token_hex(6)
        self._answers: dict[str, dict[str, int]] = {}  # question id -> node -> its answer
        self._answered = asyncio.Event()
        self._releases: dict[str, asyncio.Event] = {}
        self._holds: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._pubsub: Any = None

    @classmethod
    async def connect(cls, url: str, hold: Hold, revoke: Revoke) -> RedisControls:
        return cls(await connect(url, read_timeout_s=None), hold, revoke)

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await self._pubsub.ssubscribe(CONTROL_CHANNEL)
        except RedisError as exc:
            raise LogUnavailable(f"cannot listen on Redis for controls: {exc}") from exc
        self._listener = asyncio.create_task(self._listen(), name="controls:listen")

    async def close(self) -> None:
        tasks = [*self._holds, *([self._listener] if self._listener else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError):
                await self._pubsub.aclose()
        await self._redis.aclose()

    async def _asked(self, message: dict[str, Any], within_s: float, what: str) -> dict[str, int]:
        """Publish ``message`` and wait for an answer from every process that heard it: node -> its figure."""
        answers = self._answers[message["id"]] = {}
        heard = 0
        try:
            heard = int(await self._send(message))
            async with asyncio.timeout(within_s):
                while len(answers) < heard:
                    self._answered.clear()
                    await self._answered.wait()
        except TimeoutError as exc:
            raise LogUnavailable(
                f"{heard - len(answers)} of {heard} server processes did not {what}; try again"
            ) from exc
        finally:
            del self._answers[message["id"]]
        return answers

    @contextlib.asynccontextmanager
    async def held(self, rooms: Sequence[str], why: str) -> AsyncIterator[int]:
        hold_id = secrets.token_hex(8)
        try:
            answers = await self._asked(
                {"op": "hold", "id": hold_id, "rooms": list(rooms), "why": why}, HOLD_ANSWER_S, "let go of the rooms"
            )
            yield len(answers)
        finally:
            with contextlib.suppress(RedisError, LogUnavailable):
                await self._send({"op": "release", "id": hold_id})

    async def revoke(self, event_id: str) -> int:
        answers = await self._asked(
            {"op": "revoke", "id": secrets.token_hex(8), "event": event_id}, HOLD_ANSWER_S, "close the participants"
        )
        return sum(answers.values())

    async def _send(self, message: dict[str, Any]) -> int:
        try:
            return int(await self._redis.spublish(CONTROL_CHANNEL, json.dumps(message)))
        except RedisError as exc:
            raise LogUnavailable(f"cannot reach the other server processes through Redis: {exc}") from exc

    async def _listen(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_sharded_message(timeout=LISTEN_POLL_S)
            except (RedisError, OSError) as exc:
                logger.warning("controls: Redis failed, listening again: %s", exc)
                await asyncio.sleep(1.0)
                continue
            if message is None or message.get("type") != "smessage":
                continue
            try:
                self._received(json.loads(as_bytes(message["data"])))
            except (ValueError, KeyError, TypeError, LogUnavailable) as exc:
                logger.warning("controls: a malformed message was ignored: %s", exc)

    def _received(self, message: dict[str, Any]) -> None:
        op, hold_id = message["op"], str(message["id"])
        if op == "hold":
            rooms = [str(room) for room in message["rooms"]]
            why = str(message["why"])
            if why not in HOLD_REASONS:
                raise ValueError(f"unknown reason to hold rooms: {why!r}")
            release = self._releases[hold_id] = asyncio.Event()
            self._spawn(self._holding(hold_id, rooms, why, release), f"controls:hold:{hold_id}")
        elif op == "revoke":
            closed = self._revoke(str(message["event"]))
            answer = {"op": "revoked", "id": hold_id, "node": self._node, "count": closed}
            self._spawn(self._answer(answer), f"controls:revoked:{hold_id}")
        elif op in ("held", "revoked") and hold_id in self._answers:
            self._answers[hold_id][str(message["node"])] = int(message.get("count", 1))
            self._answered.set()
        elif op == "release" and hold_id in self._releases:
            self._releases[hold_id].set()

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` as a task these controls own (cancelled when they close)."""
        task = asyncio.create_task(work, name=name)
        self._holds.add(task)
        task.add_done_callback(self._holds.discard)

    async def _answer(self, message: dict[str, Any]) -> None:
        try:
            await self._send(message)
        except LogUnavailable as exc:
            logger.warning("controls: could not answer: %s", exc.message)

    async def _holding(self, hold_id: str, rooms: list[str], why: str, release: asyncio.Event) -> None:
        try:
            async with self._hold(rooms, why):
                await self._send({"op": "held", "id": hold_id, "node": self._node})
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(HOLD_MAX_S):
                        await release.wait()
        except LogUnavailable as exc:
            logger.warning("controls: could not answer a hold: %s", exc.message)
        finally:
            self._releases.pop(hold_id, None)
