"""One contract suite for every log backend: the ``event_log`` fixture is parametrized by backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from candor.log.base import EventLog
from candor.log.redis import RedisLog
from candor.log.sqlite import DURABILITY_MACHINE, SqliteLog
from redis_server import RedisServer, flushed_redis, redis_server

__all__ = ["flushed_redis", "redis_server"]

# Tiny chunks and tail, so the contract tests exercise the archive as well as the stream.
REDIS_CHUNK_RECORDS = 4
REDIS_RETAIN_RECORDS = 6


@pytest.fixture(params=["sqlite", "sqlite-machine", "redis"])
async def event_log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventLog]:
    log: EventLog
    if request.param == "sqlite":
        log = SqliteLog(tmp_path / "log.sqlite3")
    elif request.param == "sqlite-machine":
        log = SqliteLog(tmp_path / "log.sqlite3", DURABILITY_MACHINE)
    else:
        server: RedisServer = request.getfixturevalue("flushed_redis")
        log = RedisLog.from_url(server.url, chunk_records=REDIS_CHUNK_RECORDS, retain_records=REDIS_RETAIN_RECORDS)
    try:
        yield log
    finally:
        await log.close()
