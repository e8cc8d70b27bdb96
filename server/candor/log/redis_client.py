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
from collections.abc import AsyncIterator, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
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
    """One server to send admin commands to: the single server, or one node of a cluster (its own connection)."""

    def __init__(self, client: aioredis.Redis, address: str = "", *, owned: bool = False) -> None:
        self.client = client
        self.address = address
        self._owned = owned

    async def info(self, section: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.client.info(section)
        return found

    async def close(self) -> None:
        if self._owned:
            await self.client.aclose()


@contextlib.asynccontextmanager
async def every_node(client: Client) -> AsyncIterator[list[Node]]:
    """Every server holding Candor's data: the one server, or each primary and replica of the cluster.

    A cluster's nodes come from CLUSTER NODES (a node marked failed is left
    out: it resyncs from its primary when it comes back), each reached by a
    connection of its own with the credentials of the URL the client was given.
    """
    if not isinstance(client, RedisCluster):
        yield [Node(client)]
        return
    table: dict[str, dict[str, Any]] = await client.cluster_nodes()
    kwargs = _node_options(client.get_connection_kwargs())
    nodes: list[Node] = []
    try:
        for address, row in sorted(table.items()):
            if "fail" in row.get("flags", "") or "noaddr" in row.get("flags", "") or not row.get("connected"):
                continue
            host, _, port = address.rpartition(":")
            plain = aioredis.Redis(host=host, port=int(port), **kwargs)
            nodes.append(Node(plain, address, owned=True))
        yield nodes
    finally:
        for node in nodes:
            await node.close()


def _node_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a plain client needs of the cluster client's connection options: credentials, timeouts, TLS."""
    kept = ("username", "password", "credential_provider", "socket_connect_timeout", "socket_timeout")
    options = {name: kwargs[name] for name in kept if name in kwargs}
    if "SSL" in getattr(kwargs.get("connection_class"), "__name__", ""):
        options["ssl"] = True
        options.update((name, value) for name, value in kwargs.items() if name.startswith("ssl_"))
    options["retry"] = Retry(NoBackoff(), 0)
    return options


async def rewrite_persistence(client: Client) -> None:
    """Every node rewrites its AOF (and RDB file, if it saves one), replicas once they have the change.

    So no file of any node keeps a deleted value. Raises LogUnavailable when a
    node fails to, or takes longer than :data:`PERSISTENCE_TIMEOUT_S`.
    """
    async with every_node(client) as nodes:
        await _replicas_caught_up(nodes)
        await asyncio.gather(*(_rewrite_files(node) for node in nodes))


async def _replicas_caught_up(nodes: list[Node]) -> None:
    """Wait until each replica has processed its primary's replication stream as it stands now."""
    offsets: dict[str, int] = {}
    for node in nodes:
        info = await node.info("replication")
        if info.get("role") == "master" and node.address:
            offsets[node.address] = int(info.get("master_repl_offset", 0))
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
            await node.client.bgrewriteaof()
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
        save = (await node.client.config_get("save")).get("save")
    except ResponseError:
        save = None  # CONFIG is disabled on this server: its snapshots are its operator's to rotate
    if save:
        before = int((await node.info("persistence"))["rdb_saves"])
        await _wait_for(node, "persistence", lambda i: not i["rdb_bgsave_in_progress"])
        with contextlib.suppress(ResponseError):
            await node.client.bgsave()
        info = await _wait_for(
            node, "persistence", lambda i: int(i["rdb_saves"]) > before and not i["rdb_bgsave_in_progress"]
        )
        if info.get("rdb_last_bgsave_status") != "ok":
            raise LogUnavailable("Redis could not rewrite its snapshot file; try again")


async def _wait_for(node: Node, section: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + PERSISTENCE_TIMEOUT_S
    while time.monotonic() < deadline:
        info = await node.info(section)
        if done(info):
            return info
        await asyncio.sleep(0.05)
    raise LogUnavailable("Redis did not finish rewriting its files in time; try again")
