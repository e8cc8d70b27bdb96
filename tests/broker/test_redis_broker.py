"""The Redis broker: records after subscribing arrive in order, once; bad streams never stall the others; awareness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from candor.broker.redis import SWEEP_S, RedisBroker
from candor.errors import LogUnavailable
from candor.ids import PeerId, RoomId, Seq
from candor.log.base import Entry, LogRecord, SnapshotRecord
from candor.log.redis import RedisLog
from redis_cluster import LocalCluster
from redis_server import RedisServer

ROOM = RoomId("board")
OTHER = RoomId("other")


class Inbox:
    """What a broker delivered for one room."""

    def __init__(self) -> None:
        self.records: list[LogRecord] = []
        self.awareness: list[bytes] = []

    def seqs(self) -> list[int]:
        return [r.seq for r in self.records]


async def eventually(predicate: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def append(log: RedisLog, room: RoomId, count: int) -> list[LogRecord]:
    return await log.append(room, [Entry(1000 + i, PeerId("p"), b"u%d" % i) for i in range(count)])


class Node:
    """One simulated process: its own log client and its own broker."""

    def __init__(self, log: RedisLog, broker: RedisBroker) -> None:
        self.log = log
        self.broker = broker
        self.inboxes: dict[RoomId, Inbox] = {}

    @classmethod
    async def connect(cls, url: str, node_id: str) -> Node:
        log = await RedisLog.connect(url, node_id=node_id.encode(), chunk_records=4, retain_records=6)
        return cls(log, await RedisBroker.connect(url, log, node_id.encode()))

    async def subscribe(self, room: RoomId, present: bytes | None = None) -> Inbox:
        inbox = self.inboxes.setdefault(room, Inbox())
        await self.broker.subscribe(room, inbox.records.extend, inbox.awareness.append, lambda: present)
        return inbox

    async def close(self) -> None:
        await self.broker.close()
        await self.log.close()


MakeNode = Callable[..., Awaitable[Node]]


@pytest.fixture
async def make_node(redis_backend: RedisServer | LocalCluster) -> AsyncIterator[MakeNode]:
    nodes: list[Node] = []

    async def make(url: str | None = None, name: str = "") -> Node:
        node = await Node.connect(url or redis_backend.url, name or f"n{len(nodes)}")
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        await node.close()


async def test_records_appended_after_subscribing_arrive_in_order_once(make_node: MakeNode) -> None:
    writer, reader = await make_node(), await make_node()
    await reader.broker.start()
    await append(writer.log, ROOM, 3)
    inbox = await reader.subscribe(ROOM)
    for _ in range(5):
        await append(writer.log, ROOM, 2)
    await eventually(lambda: inbox.seqs() == list(range(4, 14)))
    assert [r.update for r in inbox.records] == [b"u%d" % (i % 2) for i in range(10)]


async def test_a_room_subscribed_while_the_reader_waits_is_read_at_once(make_node: MakeNode) -> None:
    writer, reader = await make_node(), await make_node()
    await reader.broker.start()
    await reader.subscribe(OTHER)
    await asyncio.sleep(0.3)  # the reader now waits for news of OTHER alone
    inbox = await reader.subscribe(ROOM)
    started = time.monotonic()
    await append(writer.log, ROOM, 1)
    await eventually(lambda: inbox.seqs() == [1])
    assert time.monotonic() - started < SWEEP_S  # read on the append's news, not by the sweep


async def test_appends_by_another_process_arrive_on_their_news_well_before_the_sweep(
    make_node: MakeNode,
) -> None:
    writer, reader = await make_node(), await make_node()
    await reader.broker.start()
    inbox = await reader.subscribe(ROOM)
    await asyncio.sleep(0.3)  # the channel is joined
    for n in range(1, 21):
        started = time.monotonic()
        await append(writer.log, ROOM, 1)
        await eventually(lambda n=n: len(inbox.records) == n)
        assert time.monotonic() - started < SWEEP_S / 2  # (a loaded machine may take a few hundred ms)


async def test_appends_whose_news_was_lost_arrive_with_the_sweep(
    make_node: MakeNode, redis_backend: RedisServer | LocalCluster
) -> None:
    reader = await make_node()
    await reader.broker.start()
    inbox = await reader.subscribe(ROOM)
    silent = await RedisLog.connect(redis_backend.url)  # no broker: it announces nothing
    try:
        await append(silent, ROOM, 3)
        await eventually(lambda: inbox.seqs() == [1, 2, 3], within_s=3 * SWEEP_S)
    finally:
        await silent.close()


async def test_records_compacted_past_a_slow_reader_come_from_the_archive(make_node: MakeNode) -> None:
    writer, reader = await make_node(), await make_node()
    inbox = await reader.subscribe(ROOM)  # at seq 0; the reader does not run yet
    stored = await append(writer.log, ROOM, 40)
    await writer.log.write_snapshot(SnapshotRecord(ROOM, Seq(40), 0, b"state"))  # the stream now starts at 33
    await reader.broker.start()
    await eventually(lambda: len(inbox.records) == 40)
    assert inbox.records == stored


async def test_a_malformed_entry_is_skipped_and_a_stream_of_the_wrong_type_stalls_no_other_room(
    make_node: MakeNode, redis_backend: RedisServer | LocalCluster
) -> None:
    writer, reader = await make_node(), await make_node()
    await reader.broker.start()
    broken, good = await reader.subscribe(RoomId("broken")), await reader.subscribe(ROOM)
    wrong = await reader.subscribe(RoomId("wrong"))
    with redis_backend.client() as raw:
        raw.xadd("candor:{broken}:log", {"r": b"not msgpack"}, id="1-0")
        raw.set("candor:{broken}:head", 1)
        raw.set("candor:{wrong}:log", "a string, not a stream")
    await append(writer.log, RoomId("broken"), 1)
    await append(writer.log, ROOM, 3)
    await eventually(lambda: good.seqs() == [1, 2, 3])
    await eventually(lambda: broken.seqs() == [2])
    assert wrong.records == []
    await append(writer.log, ROOM, 1)
    await eventually(lambda: good.seqs() == [1, 2, 3, 4])


async def test_awareness_reaches_other_processes_and_newcomers_learn_who_is_present(
    make_node: MakeNode,
) -> None:
    first, second = await make_node(name="first"), await make_node(name="second")
    await first.broker.start()
    await second.broker.start()
    mine = await first.subscribe(ROOM, present=b"states of first's peers")
    await asyncio.sleep(0.3)  # first has joined the channel
    theirs = await second.subscribe(ROOM)
    # second asked who is present; first answered with its own peers' states.
    await eventually(lambda: theirs.awareness == [b"states of first's peers"])
    first.broker.publish_awareness(ROOM, b"cursor moved")
    await eventually(lambda: theirs.awareness[-1:] == [b"cursor moved"])
    assert mine.awareness == []  # a process ignores its own messages


@pytest.mark.parametrize("redis_backend", ["redis"], indirect=True)  # it starts a server of its own
async def test_the_broker_reconnects_by_itself_after_redis_restarts(make_node: MakeNode, tmp_path: Path) -> None:
    # Every acknowledged append in the AOF before the kill: with everysec, Redis may hold a write
    # back while a previous fsync runs, and a kill then loses records the log saw acknowledged.
    server = RedisServer(tmp_path / "redis", options=("--appendfsync", "always"))
    server.start()
    try:
        writer, reader = await make_node(server.url), await make_node(server.url)
        await reader.broker.start()
        inbox = await reader.subscribe(ROOM)
        await append(writer.log, ROOM, 2)
        await eventually(lambda: inbox.seqs() == [1, 2])
        server.kill()
        with pytest.raises(LogUnavailable):
            await append(writer.log, ROOM, 1)
        with pytest.raises(LogUnavailable):
            await reader.subscribe(OTHER)
        await asyncio.sleep(0.5)  # the reader is failing and backing off meanwhile
        server.start()
        await append(writer.log, ROOM, 2)
        await eventually(lambda: inbox.seqs() == [1, 2, 3, 4], within_s=10)
    finally:
        server.kill()
