"""Connecting to Redis: one server or a Redis Cluster (the node given says which), and commands for every node.

``--redis-url`` names one server, or any one node of a cluster: :func:`connect`
asks it (``INFO``) and answers with redis-py's single-server client or its
cluster client, which routes each command by its key's slot and follows
``MOVED`` and ``ASK`` while slots move. Candor's commands read the same on both:
every key of a room carries the room as a hash tag, every script and pipelined
read names keys of one room, and channels are shard channels
(``SPUBLISH``/``SSUBSCRIBE``, Redis 7), which a cluster keeps on the shard of
their slot. Neither client retries a command that failed midway: whether it ran
is never guessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from candor.errors import LogUnavailable

Client = aioredis.Redis | RedisCluster
MIN_VERSION = (7, 0)
CONNECT_TIMEOUT_S = 2.0
PERSISTENCE_TIMEOUT_S = 120.0


def _options(read_timeout_s: float | None) -> dict[str, Any]:
    return {
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "socket_timeout": read_timeout_s,
        "retry": Retry(NoBackoff(), 0),
    }


async def connect(url: str, *, read_timeout_s: float | None = 5.0, single: bool = False) -> Client:
    """A client for ``url``: the cluster client when the node is part of a cluster (``single``: one connection).

    :class:`~candor.errors.LogUnavailable` when the server does not answer or is older than Redis 7.
    """
    probe = aioredis.Redis.from_url(url, **_options(read_timeout_s))
    try:
        info = await probe.info()
    except RedisError as exc:
        raise LogUnavailable(f"Redis at the --redis-url does not answer: {exc}") from exc
    finally:
        await probe.aclose()
    version = tuple(int(part) for part in str(info.get("redis_version", "0")).split(".")[:2])
    if version < MIN_VERSION:
        raise LogUnavailable(f"Candor needs Redis 7.0 or later (shard channels); this one is {info['redis_version']}")
    if int(info.get("cluster_enabled", 0)):
        cluster: RedisCluster = RedisCluster.from_url(url, **_options(read_timeout_s))
        return cluster
    plain: aioredis.Redis = aioredis.Redis.from_url(url, single_connection_client=single, **_options(read_timeout_s))
    return plain


def is_cluster(client: Client) -> bool:
    return isinstance(client, RedisCluster)


def as_bytes(value: object) -> bytes:
    """A reply as bytes: Candor's clients never decode replies, so anything else is a broken server."""
    if isinstance(value, bytes):
        return value
    raise LogUnavailable(f"Redis answered {type(value).__name__} where bytes were expected")


class Node:
    """One server to send admin commands to: the single server, or one node of a cluster."""

    def __init__(self, client: Client, node: ClusterNode | None = None) -> None:
        self._client = client
        self._target: dict[str, Any] = {} if node is None else {"target_nodes": node}
        self.node = node

    async def run(self, *args: Any) -> Any:
        return await self._client.execute_command(*args, **self._target)

    async def info(self, section: str) -> dict[str, Any]:
        found: dict[str, Any] = await self._client.info(section, **self._target)
        return found


async def every_node(client: Client) -> list[Node]:
    """Every server holding Candor's data: the one server, or each primary and replica of the cluster."""
    if isinstance(client, RedisCluster):
        await client.initialize()
        return [Node(client, node) for node in client.get_nodes()]
    return [Node(client)]


async def rewrite_persistence(client: Client) -> None:
    """Every node rewrites its AOF (and RDB file, if it saves one), replicas once they have the change.

    So no file of any node keeps a deleted value. Raises LogUnavailable when a
    node fails to, or takes longer than :data:`PERSISTENCE_TIMEOUT_S`.
    """
    nodes = await every_node(client)
    await _replicas_caught_up(nodes)
    await asyncio.gather(*(_rewrite_files(node) for node in nodes))


async def _replicas_caught_up(nodes: list[Node]) -> None:
    """Wait until each replica has processed its primary's replication stream as it stands now."""
    offsets: dict[str, int] = {}
    for node in nodes:
        info = await node.info("replication")
        if info.get("role") == "master" and node.node is not None:
            offsets[node.node.name] = int(info.get("master_repl_offset", 0))
    for node in nodes:
        info = await node.info("replication")
        if info.get("role") != "slave":
            continue
        wanted = offsets.get(f"{info.get('master_host')}:{info.get('master_port')}")
        if wanted is not None:
            await _wait_for(node, "replication", _offset_reached(wanted))


def _offset_reached(offset: int) -> Callable[[dict[str, Any]], bool]:
    return lambda info: int(info.get("slave_repl_offset", 0)) >= offset


async def _rewrite_files(node: Node) -> None:
    info = await node.info("persistence")
    if int(info.get("aof_enabled", 0)):
        idle = "aof_rewrite_in_progress", "aof_rewrite_scheduled"
        await _wait_for(node, "persistence", lambda i: not any(int(i[name]) for name in idle))
        before = int((await node.info("persistence"))["aof_rewrites"])
        with contextlib.suppress(ResponseError):  # one already started after our writes: it serves as well
            await node.run("BGREWRITEAOF")
        info = await _wait_for(
            node,
            "persistence",
            lambda i: (
                int(i["aof_rewrites"]) > before and not i["aof_rewrite_in_progress"] and not i["aof_rewrite_scheduled"]
            ),
        )
        if info.get("aof_last_bgrewrite_status") != "ok":
            raise LogUnavailable("Redis could not rewrite its append-only file; try again")
    try:
        reply = await node.run("CONFIG", "GET", "save")
    except ResponseError:
        reply = None  # CONFIG is disabled on this server: its snapshots are its operator's to rotate
    save = _config_value(reply)
    if save:
        before = int((await node.info("persistence"))["rdb_saves"])
        await _wait_for(node, "persistence", lambda i: not i["rdb_bgsave_in_progress"])
        with contextlib.suppress(ResponseError):
            await node.run("BGSAVE")
        info = await _wait_for(
            node, "persistence", lambda i: int(i["rdb_saves"]) > before and not i["rdb_bgsave_in_progress"]
        )
        if info.get("rdb_last_bgsave_status") != "ok":
            raise LogUnavailable("Redis could not rewrite its snapshot file; try again")


def _config_value(reply: Any) -> Any:
    """CONFIG GET's value, whether redis-py made the reply a dict or left it a list."""
    if isinstance(reply, dict):
        return next(iter(reply.values()), None)
    if isinstance(reply, list) and len(reply) >= 2:
        return reply[1]
    return None


async def _wait_for(node: Node, section: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + PERSISTENCE_TIMEOUT_S
    while time.monotonic() < deadline:
        info = await node.info(section)
        if done(info):
            return info
        await asyncio.sleep(0.05)
    raise LogUnavailable("Redis did not finish rewriting its files in time; try again")
