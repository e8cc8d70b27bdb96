"""The Broker contract, over every backend: lifecycle, and between two processes records in order and awareness.

The local broker serves one process, so it has nobody to deliver to: it takes
part in the lifecycle contract only. Two Redis brokers (one server, a cluster)
are two processes sharing the boards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from candor.broker.base import Broker
from candor.broker.local import LocalBroker
from candor.broker.redis import RedisBroker
from candor.ids import PeerId, RoomId, Seq
from candor.log.base import Entry, EventLog, LogRecord
from candor.log.redis import RedisLog
from candor.log.sqlite import SqliteLog
from redis_cluster import LocalCluster
from redis_server import RedisServer

ROOM = RoomId("board")
BACKENDS = ["local", "redis", "redis-cluster"]
SHARED = ["redis", "redis-cluster"]


@dataclass
class Process:
    """One server process: its log, its broker, and what the broker delivered to it."""

    log: EventLog
    broker: Broker
    records: list[LogRecord] = field(default_factory=list)
    awareness: list[bytes] = field(default_factory=list)

    async def subscribe(self, room: RoomId, present: bytes | None = None) -> None:
        await self.broker.subscribe(room, self.records.extend, self.awareness.append, lambda: present)

    async def close(self) -> None:
        await self.broker.close()
        await self.log.close()


MakeProcess = Callable[[], Awaitable[Process]]


async def eventually(predicate: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def _processes(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MakeProcess]:
    made: list[Process] = []

    async def make() -> Process:
        process: Process
        if request.param == "local":
            process = Process(SqliteLog(tmp_path / f"log{len(made)}.sqlite3"), LocalBroker())
        else:
            name = "flushed_redis" if request.param == "redis" else "flushed_cluster"
            backend: RedisServer | LocalCluster = request.getfixturevalue(name)
            node_id = b"node-%d" % len(made)
            log = await RedisLog.connect(backend.url, node_id=node_id)
            process = Process(log, await RedisBroker.connect(backend.url, log, node_id))
        await process.broker.start()
        made.append(process)
        return process

    try:
        yield make
    finally:
        for process in made:
            await process.close()


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
async def make_process(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MakeProcess]:
    """Processes of one backend, each started; closed at the end of the test."""
    async for make in _processes(request, tmp_path):
        yield make


@pytest.fixture(params=SHARED, ids=SHARED)
async def make_shared(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MakeProcess]:
    """Processes of a backend that several processes share."""
    async for make in _processes(request, tmp_path):
        yield make


async def test_a_broker_starts_subscribes_relays_and_closes(make_process: MakeProcess) -> None:
    process = await make_process()
    await process.subscribe(ROOM)
    for _ in range(10):
        process.broker.publish_awareness(ROOM, b"cursor moved")  # never blocks, whoever listens
    await asyncio.sleep(0.3)
    assert process.awareness == []  # a process never hears its own peers back
    process.broker.unsubscribe(ROOM)
    process.broker.unsubscribe(ROOM)  # idempotent
    await process.log.append(ROOM, [Entry(1, PeerId("p"), b"u")])
    await asyncio.sleep(0.2)
    assert process.records == []


async def test_records_another_process_appends_after_subscribing_arrive_in_order_once(
    make_shared: MakeProcess,
) -> None:
    writer, reader = await make_shared(), await make_shared()
    await writer.log.append(ROOM, [Entry(i, PeerId("p"), b"before %d" % i) for i in range(3)])
    await reader.subscribe(ROOM)
    appended: list[LogRecord] = []
    for i in range(5):
        appended += await writer.log.append(ROOM, [Entry(10 + i, PeerId("p"), b"after %d" % i)])
    await eventually(lambda: len(reader.records) >= 5)
    await asyncio.sleep(0.2)  # nothing more arrives: no repeat, nothing from before the subscription
    assert reader.records == appended
    assert [r.seq for r in reader.records] == [Seq(s) for s in range(4, 9)]


async def test_awareness_reaches_the_other_process_and_newcomers_learn_who_is_present(
    make_shared: MakeProcess,
) -> None:
    first, second = await make_shared(), await make_shared()
    await first.subscribe(ROOM, present=b"states of first's peers")
    await asyncio.sleep(0.3)  # first has joined the channel
    await second.subscribe(ROOM)
    await eventually(lambda: second.awareness == [b"states of first's peers"])
    first.broker.publish_awareness(ROOM, b"cursor moved")
    await eventually(lambda: second.awareness[-1:] == [b"cursor moved"])
    second.broker.publish_awareness(ROOM, b"hello back")
    await eventually(lambda: first.awareness == [b"hello back"])


async def test_an_unsubscribed_room_is_no_longer_delivered(make_shared: MakeProcess) -> None:
    writer, reader = await make_shared(), await make_shared()
    await reader.subscribe(ROOM)
    await writer.log.append(ROOM, [Entry(1, PeerId("p"), b"one")])
    await eventually(lambda: len(reader.records) == 1)
    reader.broker.unsubscribe(ROOM)
    await writer.log.append(ROOM, [Entry(2, PeerId("p"), b"two")])
    await asyncio.sleep(1.5)  # past a sweep
    assert [r.update for r in reader.records] == [b"one"]
