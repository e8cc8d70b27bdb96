"""One contract suite for every log backend: the ``event_log`` fixture is parametrized by backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from candor.log.base import EventLog
from candor.log.redis import RedisLog
from candor.log.sqlite import DURABILITY_MACHINE, SqliteLog
from redis_cluster import LocalCluster, flushed_cluster, redis_backend, redis_cluster
from redis_server import RedisServer, flushed_redis, redis_server

__all__ = ["flushed_cluster", "flushed_redis", "redis_backend", "redis_cluster", "redis_server"]

# Tiny chunks and tail, so the contract tests exercise the archive as well as the stream.
REDIS_CHUNK_RECORDS = 4
REDIS_RETAIN_RECORDS = 6


@pytest.fixture(params=["sqlite", "sqlite-machine", "redis", "redis-cluster", "redis-cluster-wait"])
async def event_log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventLog]:
    log: EventLog
    if request.param == "sqlite":
        log = SqliteLog(tmp_path / "log.sqlite3")
    elif request.param == "sqlite-machine":
        log = SqliteLog(tmp_path / "log.sqlite3", DURABILITY_MACHINE)
    else:
        backend: RedisServer | LocalCluster = request.getfixturevalue(
            "flushed_redis" if request.param == "redis" else "flushed_cluster"
        )
        log = await RedisLog.connect(
            backend.url,
            chunk_records=REDIS_CHUNK_RECORDS,
            retain_records=REDIS_RETAIN_RECORDS,
            wait_replicas=1 if request.param == "redis-cluster-wait" else 0,
        )
    try:
        yield log
    finally:
        await log.close()
