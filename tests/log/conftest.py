"""One contract suite per interface, over every log backend: the ``event_log`` fixture is parametrized by backend.

Every backend is one object implementing each interface (EventLog, Snapshots,
Redaction, RoomEraser); the ``snapshots`` and ``redaction`` fixtures are that
object seen through one of them. ``plant_garbage`` writes bytes that are no
record straight into the backend's storage, as a damaged file or a foreign
writer could leave them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from log_records import PlantGarbage

from candor.ids import RoomId
from candor.log.redaction import PurgeableLog
from candor.log.redis import RedisLog
from candor.log.redis_names import ROOMS_KEY, room_key, stream_id
from candor.log.sqlite import DURABILITY_MACHINE, SqliteLog
from redis_cluster import LocalCluster, flushed_cluster, redis_backend, redis_cluster
from redis_server import RedisServer, flushed_redis, redis_server

__all__ = ["flushed_cluster", "flushed_redis", "redis_backend", "redis_cluster", "redis_server"]

# Tiny chunks and tail, so the contract tests exercise the archive as well as the stream.
REDIS_CHUNK_RECORDS = 4
REDIS_RETAIN_RECORDS = 6
BACKENDS = {
    "sqlite": "SQLite, process durability (commits on the loop)",
    "sqlite-machine": "SQLite, machine durability (commits fsync'd on the writer thread)",
    "redis": "one redis-server",
    "redis-cluster": "a Redis Cluster",
    "redis-cluster-wait": "a Redis Cluster, appends WAIT for a replica",
}
# Stored bytes that decode to nothing: not msgpack at all.
GARBAGE = b"\xc1 not a record"


def _redis_of(request: pytest.FixtureRequest) -> RedisServer | LocalCluster:
    name = "flushed_redis" if request.node.callspec.params["event_log"] == "redis" else "flushed_cluster"
    backend: RedisServer | LocalCluster = request.getfixturevalue(name)
    return backend


@pytest.fixture(params=list(BACKENDS), ids=list(BACKENDS))
async def event_log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PurgeableLog]:
    log: PurgeableLog
    if request.param == "sqlite":
        log = SqliteLog(tmp_path / "log.sqlite3")
    elif request.param == "sqlite-machine":
        log = SqliteLog(tmp_path / "log.sqlite3", DURABILITY_MACHINE)
    else:
        log = await RedisLog.connect(
            _redis_of(request).url,
            chunk_records=REDIS_CHUNK_RECORDS,
            retain_records=REDIS_RETAIN_RECORDS,
            wait_replicas=1 if request.param == "redis-cluster-wait" else 0,
        )
    try:
        yield log
    finally:
        await log.close()


@pytest.fixture
def snapshots(event_log: PurgeableLog) -> PurgeableLog:
    """The backend through :class:`~candor.log.snapshots.Snapshots` (and the log it snapshots)."""
    return event_log


@pytest.fixture
def redaction(event_log: PurgeableLog) -> PurgeableLog:
    """The backend through :class:`~candor.log.redaction.Redaction` (and the log it rewrites)."""
    return event_log


@pytest.fixture
def plant_garbage(event_log: PurgeableLog, request: pytest.FixtureRequest) -> PlantGarbage:
    """Store :data:`GARBAGE` as record 1 of an empty room, behind the backend's back."""

    def plant(room: RoomId) -> None:
        if isinstance(event_log, SqliteLog):
            with sqlite3.connect(event_log.path) as conn:
                conn.execute("INSERT INTO log (room, seq, time_ms, record) VALUES (?, 1, 0, ?)", (room, GARBAGE))
            return
        with _redis_of(request).client() as raw:
            raw.xadd(room_key(room, "log"), {"r": GARBAGE}, id=stream_id(1))
            raw.set(room_key(room, "head"), 1)
            raw.sadd(ROOMS_KEY, room)

    return plant
