"""Three `candor serve --redis-url` processes sharing one real redis-server (AOF on), or a real Redis Cluster."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis_cluster import LocalCluster
from redis_server import RedisServer

PROCESSES = 3


@dataclass
class Cluster:
    redis: RedisServer | LocalCluster
    servers: list[Any]  # tests/conftest.py's ServerProcess

    def ws_urls(self, room: str, first: int = 0, token: str | None = None) -> list[str]:
        """Every process's URL for ``room``, starting with process ``first`` (where a client goes first)."""
        order = self.servers[first:] + self.servers[:first]
        return [s.ws_url(room) + (f"?token={token}" if token else "") for s in order]

    def restart_dead(self) -> None:
        """Start again any process a test killed (same port, so its URLs stay good)."""
        for server in self.servers:
            if server.proc is not None and server.proc.poll() is not None:
                server.start()


def start_cluster(make: Any, base: Path, *options: str) -> Iterator[Cluster]:
    """Redis, then the three processes at once (``make`` is a server factory fixture, which stops them)."""
    # Tests kill this Redis and then count what was acknowledged: with everysec it may hold an AOF
    # write back while a previous fsync runs, so only "always" keeps every acknowledged append.
    redis = RedisServer(base / "redis", options=("--appendfsync", "always"))
    redis.start()
    try:
        with ThreadPoolExecutor(PROCESSES) as starting:
            servers = list(
                starting.map(
                    lambda i: make("--redis-url", redis.url, *options, data_dir=base / f"candor-{i}"), range(PROCESSES)
                )
            )
        yield Cluster(redis, servers)
    finally:
        redis.kill()


def start_on_redis_cluster(make: Any, base: Path, *options: str) -> Iterator[Cluster]:
    """A 6-node Redis Cluster, then the three processes, each given a different node's URL."""
    shards = LocalCluster(base / "redis-cluster")
    try:
        shards.start()
        with ThreadPoolExecutor(PROCESSES) as starting:
            servers = list(
                starting.map(
                    lambda i: make("--redis-url", shards.urls()[i], *options, data_dir=base / f"candor-{i}"),
                    range(PROCESSES),
                )
            )
        yield Cluster(shards, servers)
    finally:
        shards.stop()
