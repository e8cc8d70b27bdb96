"""What only the Redis log does: its layout, compaction into the archive, several writers, purges that reach the AOF."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import redis

from candor.errors import LogUnavailable, RoomOutdated
from candor.ids import PeerId, RoomId, Seq
from candor.log.base import Entry, SnapshotRecord
from candor.log.redis import RedisLog
from redis_cluster import LocalCluster
from redis_server import RedisServer

ROOM = RoomId("room-a")

MakeLog = Callable[..., Awaitable[RedisLog]]


def entries(count: int, start_ms: int = 1000, text: bytes = b"u") -> list[Entry]:
    return [Entry(start_ms + i, PeerId("p-x"), text + b"%d" % i) for i in range(count)]


@pytest.fixture
async def make_log(redis_backend: RedisServer | LocalCluster) -> AsyncIterator[MakeLog]:
    opened: list[RedisLog] = []

    async def make(chunk_records: int = 4, retain_records: int = 6) -> RedisLog:
        log = await RedisLog.connect(redis_backend.url, chunk_records=chunk_records, retain_records=retain_records)
        opened.append(log)
        return log

    yield make
    for log in opened:
        await log.close()


@pytest.fixture
def inspect(redis_backend: RedisServer | LocalCluster) -> redis.Redis | redis.RedisCluster:
    return redis_backend.client()


async def test_the_stream_id_is_the_seq_and_the_record_is_its_r_field(
    make_log: MakeLog, inspect: redis.Redis | redis.RedisCluster
) -> None:
    log = await make_log()
    records = await log.append(ROOM, entries(3))
    stream = inspect.xrange("candor:{room-a}:log")
    assert [entry_id for entry_id, _ in stream] == [b"1-0", b"2-0", b"3-0"]
    assert [r.seq for r in records] == [1, 2, 3]
    assert inspect.get("candor:{room-a}:head") == b"3"
    assert inspect.smembers("candor:rooms") == {b"room-a"}


async def test_compaction_moves_whole_chunks_behind_a_snapshot_into_the_archive(
    make_log: MakeLog, inspect: redis.Redis
) -> None:
    log = await make_log(chunk_records=4, retain_records=6)
    stored = await log.append(ROOM, entries(30))
    await log.write_snapshot(SnapshotRecord(ROOM, Seq(25), 0, b"state"))
    # 25 - 6 = 19, whole chunks of 4: records 1..16 are archived, 17..30 stay in the stream.
    assert [int(i.split(b"-")[0]) for i, _ in inspect.xrange("candor:{room-a}:log")] == list(range(17, 31))
    assert sorted(int(k) for k in inspect.hkeys("candor:{room-a}:archive")) == [1, 5, 9, 13]
    # A second process reads the same history, archive and stream merged.
    assert await (await make_log()).read(ROOM, after=Seq(0)) == stored
    assert await log.read(ROOM, after=Seq(14), upto=Seq(18)) == stored[14:18]


async def test_two_processes_append_to_one_room_without_losing_or_reusing_a_seq(make_log: MakeLog) -> None:
    first, second = await make_log(), await make_log()

    async def writer(log: RedisLog, tag: bytes) -> None:
        for i in range(40):
            await log.append(ROOM, [Entry(1000 + i, PeerId("p"), tag + b"%d" % i)])

    await asyncio.gather(writer(first, b"a"), writer(second, b"b"))
    records = await first.read(ROOM, after=Seq(0))
    assert [r.seq for r in records] == list(range(1, 81))
    assert sorted(r.update for r in records) == sorted(
        [b"a%d" % i for i in range(40)] + [b"b%d" % i for i in range(40)]
    )


async def test_a_record_is_never_earlier_than_the_one_before_it(make_log: MakeLog) -> None:
    log, other = await make_log(), await make_log()
    await log.append(ROOM, [Entry(5000, PeerId("p"), b"x")])
    # Another process whose clock is behind.
    [late] = await other.append(ROOM, [Entry(4000, PeerId("p"), b"y")])
    assert late.time_ms == 5000
    assert await log.seq_at_time(ROOM, 4999) == 0
    assert await log.seq_at_time(ROOM, 5000) == 2


SECRET = b"\x77\x0fwithdrawn story"
FILLER = b"\x77\x0f###############"


def _copies(inspect: redis.Redis | redis.RedisCluster, backend: RedisServer | LocalCluster) -> list[str]:
    """Where the secret still is: keys (their DUMP) and persistence files (of every node of a cluster)."""
    places = [key.decode() for key in inspect.scan_iter("candor:*") if SECRET in (inspect.dump(key) or b"")]
    places += [str(path) for path in backend.files() if SECRET in path.read_bytes()]
    return places


async def test_redact_leaves_no_copy_in_any_key_or_in_the_append_only_file(
    make_log: MakeLog, inspect: redis.Redis | redis.RedisCluster, redis_backend: RedisServer | LocalCluster
) -> None:
    log = await make_log(chunk_records=4, retain_records=6)
    updates = [b"u" + SECRET if i % 5 == 0 else b"plain %d" % i for i in range(40)]
    await log.append(ROOM, [Entry(1000 + i, PeerId("p"), u) for i, u in enumerate(updates)])
    await log.write_snapshot(SnapshotRecord(ROOM, Seq(30), 0, b"state" + SECRET))
    before = _copies(inspect, redis_backend)
    assert "candor:{room-a}:log" in before and "candor:{room-a}:archive" in before
    assert any("appendonly" in place for place in before), before

    assert await log.redact([ROOM], lambda update: update.replace(SECRET, FILLER)) == 8 + 1

    deadline = time.monotonic() + 5  # Redis unlinks the old AOF files on a background thread
    while _copies(inspect, redis_backend) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _copies(inspect, redis_backend) == []
    records = await log.read(ROOM, after=Seq(0))
    assert [r.update for r in records] == [u.replace(SECRET, FILLER) for u in updates]


async def test_a_redis_that_does_not_answer_is_unavailable_and_says_so() -> None:
    with pytest.raises(LogUnavailable, match="does not answer"):
        await RedisLog.connect("redis://127.0.0.1:9")  # the discard port: nothing listens


async def test_a_redis_that_stops_answering_is_temporarily_unavailable(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    log = await RedisLog.connect(server.url)
    try:
        await log.append(ROOM, entries(1))
        server.kill()
        with pytest.raises(LogUnavailable, match="temporarily unavailable"):
            await log.append(ROOM, entries(1))
        with pytest.raises(LogUnavailable, match="temporarily unavailable"):
            await log.read(ROOM, after=Seq(0))
    finally:
        server.kill()
        await log.close()


async def test_a_process_that_held_a_room_from_before_a_purge_writes_no_snapshot_back(make_log: MakeLog) -> None:
    stale, purging = await make_log(), await make_log()
    await stale.append(ROOM, entries(3, text=b"u" + SECRET))
    assert await stale.latest_snapshot(ROOM) is None  # loading the room: its generation is noted
    await purging.redact([ROOM], lambda update: update.replace(SECRET, FILLER))
    with pytest.raises(RoomOutdated):
        await stale.write_snapshot(SnapshotRecord(ROOM, Seq(3), 0, b"state" + SECRET))
    assert await purging.latest_snapshot(ROOM) is None
    # Loading again takes the new generation, and snapshots are written again.
    await stale.latest_snapshot(ROOM)
    await stale.write_snapshot(SnapshotRecord(ROOM, Seq(3), 0, b"state" + FILLER))
    assert (await purging.latest_snapshot(ROOM)) == SnapshotRecord(ROOM, Seq(3), 0, b"state" + FILLER)
