"""The EventStore contract, over every backend: events and their rooms created, read, updated and erased."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest

from candor.workshops.redis import RedisEventStore
from candor.workshops.store import EventEraser, EventRecord, EventStore, RoomRecord, SqliteEventStore
from redis_cluster import LocalCluster, flushed_cluster, redis_cluster
from redis_server import RedisServer, flushed_redis, redis_server

__all__ = ["flushed_cluster", "flushed_redis", "redis_cluster", "redis_server"]

BACKENDS = ["sqlite", "redis", "redis-cluster"]
TEMPLATE = {"id": "story-of-change", "title": "Story of change", "sections": [{"id": "beginning"}]}


class ErasableStore(EventStore, EventEraser, Protocol):
    """Every backend is both."""


def event(event_id: str = "ev1", join_code: str = "ABC123") -> EventRecord:
    return EventRecord(event_id, "Beyond hero stories", TEMPLATE, 1_700_000_000_000, join_code, 0)


def rooms(event_id: str = "ev1") -> list[RoomRecord]:
    return [
        RoomRecord(f"{event_id}-plenary", event_id, "plenary", "Plenary", 0),
        RoomRecord(f"{event_id}-r2", event_id, "breakout", "Room 2", 2),
        RoomRecord(f"{event_id}-r1", event_id, "breakout", "Room 1", 1),
    ]


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ErasableStore]:
    opened: ErasableStore
    if request.param == "sqlite":
        opened = SqliteEventStore(tmp_path / "events.sqlite3")
    else:
        backend: RedisServer | LocalCluster = request.getfixturevalue(
            "flushed_redis" if request.param == "redis" else "flushed_cluster"
        )
        opened = await RedisEventStore.connect(backend.url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_an_unknown_event_and_room_are_none(store: ErasableStore) -> None:
    assert await store.event("nope") is None
    assert await store.room("nope-r1") is None
    assert await store.rooms("nope") == []
    assert await store.event_by_code("NOPE") is None
    assert await store.event_ids() == []
    assert await store.details("nope") == {}


async def test_a_created_event_reads_back_with_its_rooms_by_position(store: ErasableStore) -> None:
    await store.create(event(), rooms())
    await store.create(event("ev0", "XYZ789"), rooms("ev0")[:1])
    assert await store.event("ev1") == event()
    assert [r.id for r in await store.rooms("ev1")] == ["ev1-plenary", "ev1-r1", "ev1-r2"]
    assert await store.room("ev1-r2") == RoomRecord("ev1-r2", "ev1", "breakout", "Room 2", 2)
    assert await store.event_by_code("ABC123") == "ev1"
    assert await store.event_ids() == ["ev0", "ev1"]


async def test_rooms_are_added_and_renamed(store: ErasableStore) -> None:
    await store.create(event(), rooms())
    await store.add_room(RoomRecord("ev1-r3", "ev1", "breakout", "Room 3", 3))
    await store.rename_room("ev1-r1", "The quiet corner")
    assert [(r.id, r.label) for r in await store.rooms("ev1")] == [
        ("ev1-plenary", "Plenary"),
        ("ev1-r1", "The quiet corner"),
        ("ev1-r2", "Room 2"),
        ("ev1-r3", "Room 3"),
    ]


async def test_bumping_the_epoch_replaces_the_join_code(store: ErasableStore) -> None:
    await store.create(event(), rooms())
    assert await store.bump_epoch("ev1", "NEW456") == 1
    assert await store.bump_epoch("ev1", "NEW789") == 2
    found = await store.event("ev1")
    assert found is not None and (found.epoch, found.join_code) == (2, "NEW789")
    assert await store.event_by_code("ABC123") is None
    assert await store.event_by_code("NEW789") == "ev1"


async def test_details_are_replaced_as_a_whole(store: ErasableStore) -> None:
    await store.create(event(), rooms())
    assert await store.details("ev1") == {}
    await store.set_details("ev1", {"place": "Leeds", "date": "2024-05-01"})
    await store.set_details("ev1", {"place": "online"})
    assert await store.details("ev1") == {"place": "online"}


async def test_an_erased_event_is_gone_with_its_rooms_and_code(store: ErasableStore) -> None:
    await store.create(event(), rooms())
    await store.create(event("ev2", "KEEP22"), rooms("ev2"))
    assert await store.erase_event("ev1") is True
    assert await store.erase_event("ev1") is False  # idempotent
    assert await store.event("ev1") is None
    assert await store.rooms("ev1") == [] and await store.room("ev1-r1") is None
    assert await store.event_by_code("ABC123") is None
    assert await store.event_ids() == ["ev2"]
    assert len(await store.rooms("ev2")) == 3
