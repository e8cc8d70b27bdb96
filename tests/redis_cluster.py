"""A real Redis Cluster of six ``redis-server`` children (3 primaries, 3 replicas) on free loopback ports.

Each node needs two ports: its own and its cluster bus (port + 10000). The
nodes time each other out after a second, so a killed primary's replica takes
over within a few seconds. Tests may kill, pause and restart nodes, and move a
slot from one primary to another while it is written (as ``redis-cli --cluster
reshard`` does, one key at a time). Everything is stopped by PID.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from redis.cluster import key_slot

from redis_server import RedisServer

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
BUS_OFFSET = 10000
NODE_TIMEOUT_MS = 1000
PRIMARIES = 3


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_ports(count: int, taken: set[int] | None = None) -> list[int]:
    """``count`` ports whose cluster-bus ports (port + 10000) are free as well."""
    taken = set() if taken is None else taken
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(20000, 55000)
        if {port, port + BUS_OFFSET} & taken or not (_bindable(port) and _bindable(port + BUS_OFFSET)):
            continue
        taken |= {port, port + BUS_OFFSET}
        ports.append(port)
    return ports


@dataclass
class ClusterNode:
    server: RedisServer
    node_id: str = ""

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def command(self, *args: str | int) -> object:
        with self.client() as client:
            return client.execute_command(*args)


@dataclass
class LocalCluster:
    base: Path
    nodes: list[ClusterNode] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Any one node: Candor finds the others."""
        return self.nodes[0].server.url

    def client(self) -> redis.RedisCluster:
        """A plain (synchronous) cluster client, for a test to look at or plant data."""
        return redis.RedisCluster.from_url(self.url)

    def rewrite_aof(self) -> None:
        for node in self.nodes:
            if node.server.running:
                node.server.rewrite_aof()

    def files(self) -> list[Path]:
        """Every persistence file of every node (primaries and replicas)."""
        return [path for node in self.nodes for path in node.server.files() if path.name != "nodes.conf"]

    def urls(self) -> list[str]:
        return [node.server.url for node in self.nodes]

    def start(self, node_count: int = 2 * PRIMARIES) -> None:
        for index, port in enumerate(cluster_ports(node_count)):
            server = RedisServer(
                self.base / f"node-{index}",
                port=port,
                options=(
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                    # A replica cut off for a while may still take over: the tests pause replicas on purpose.
                    "--cluster-replica-validity-factor", "0",
                ),
            )  # fmt: skip
            self.nodes.append(ClusterNode(server))
        for node in self.nodes:
            node.server.start()
        addresses = [node.address for node in self.nodes]
        created = subprocess.run(
            [REDIS_CLI, "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout}\n{created.stderr}")
        for node in self.nodes:
            node.node_id = str(node.command("CLUSTER", "MYID"), "ascii")  # type: ignore[arg-type]
        self.wait_until_healthy()

    def stop(self) -> None:
        for node in self.nodes:
            node.server.kill()

    # -- what the cluster looks like ---------------------------------------------

    def _table(self) -> list[tuple[str, str, list[str], str]]:
        """From a live node's CLUSTER NODES: (id, flags, slot ranges, primary id) per node."""
        for node in self.nodes:
            if not node.server.running:
                continue
            try:
                text = node.command("CLUSTER", "NODES")
            except redis.RedisError:
                continue
            rows = []
            for line in str(text, "utf-8").splitlines():  # type: ignore[arg-type]
                parts = line.split()
                rows.append((parts[0], parts[2], parts[8:], parts[3]))
            return rows
        raise RuntimeError("no cluster node answers")

    def node(self, node_id: str) -> ClusterNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def primary_of(self, key: str) -> ClusterNode:
        """The node that serves ``key``'s slot now (as seen by a live node)."""
        slot = key_slot(key.encode())
        for node_id, flags, ranges, _ in self._table():
            if "master" in flags and "fail" not in flags and any(_covers(r, slot) for r in ranges):
                return self.node(node_id)
        raise RuntimeError(f"no primary serves slot {slot}")

    def replica_of(self, primary: ClusterNode) -> ClusterNode:
        for node_id, flags, _, primary_id in self._table():
            if "slave" in flags and primary_id == primary.node_id:
                return self.node(node_id)
        raise RuntimeError(f"{primary.address} has no replica")

    def primaries(self) -> list[ClusterNode]:
        return [self.node(i) for i, flags, _, _ in self._table() if "master" in flags and "fail" not in flags]

    def wait_until_healthy(self, within_s: float = 30.0) -> None:
        """Every running node says the cluster is ok and agrees on who serves what; every replica is in sync."""
        deadline = time.monotonic() + within_s
        while True:
            problem = self._problem()
            if problem is None:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not settle: {problem}")
            time.sleep(0.1)

    def _problem(self) -> str | None:
        views = set()
        for node in self.nodes:
            if not node.server.running:
                continue
            try:
                info = str(node.command("CLUSTER", "INFO"), "utf-8")  # type: ignore[arg-type]
                if "cluster_state:ok" not in info:
                    return f"{node.address} is not ok"
                replication = node.client().info("replication")
                if replication["role"] == "slave" and replication.get("master_link_status") != "up":
                    return f"{node.address} is not in sync with its primary"
                table = str(node.command("CLUSTER", "NODES"), "utf-8")  # type: ignore[arg-type]
            except redis.RedisError as exc:
                return f"{node.address}: {exc}"
            views.add(
                frozenset(
                    (p[0], "master" in p[2], " ".join(p[8:]))
                    for p in (line.split() for line in table.splitlines())
                    if "fail" not in p[2]
                )
            )
        return None if len(views) == 1 else "the nodes disagree on who serves what"

    def wait_for_new_primary(self, key: str, old: ClusterNode, within_s: float = 30.0) -> ClusterNode:
        """After ``old`` failed: the node that took over ``key``'s slot, once every live node agrees."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            try:
                primary = self.primary_of(key)
            except RuntimeError:
                primary = old
            if primary is not old and self._problem() is None:
                return primary
            time.sleep(0.1)
        raise RuntimeError(f"no replica took over from {old.address}")

    # -- changing it ---------------------------------------------------------------

    def flush(self) -> None:
        for node in self.primaries():
            with node.client() as client:
                client.flushall()

    def move_slot(self, key: str, target: ClusterNode, pause_s: float = 0.0) -> int:
        """Move ``key``'s slot to ``target`` one key at a time, ``pause_s`` between keys; how many keys moved.

        The resharding protocol: the target imports, the source migrates, keys
        move one by one with MIGRATE (a client asking for a moved key meanwhile
        is sent ASK, a script needing keys on both sides TRYAGAIN), then every
        primary learns the slot's new owner.
        """
        slot = key_slot(key.encode())
        source = self.primary_of(key)
        if source is target:
            return 0
        target.command("CLUSTER", "SETSLOT", slot, "IMPORTING", source.node_id)
        source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", target.node_id)
        moved = 0
        while True:
            keys = source.command("CLUSTER", "GETKEYSINSLOT", slot, 1)
            if not keys:
                break
            for name in keys:  # type: ignore[attr-defined]
                source.command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", name)
                moved += 1
                time.sleep(pause_s)
        for node in self.primaries():
            node.command("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)
        return moved


def _covers(slot_range: str, slot: int) -> bool:
    if slot_range.startswith("["):  # a slot being migrated or imported, not served
        return False
    low, _, high = slot_range.partition("-")
    return int(low) <= slot <= int(high or low)


def start_local_cluster(base: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(base)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """One healthy cluster for the contract suites; tests that break nodes start their own."""
    yield from start_local_cluster(tmp_path_factory.mktemp("redis-cluster"))


@pytest.fixture
def flushed_cluster(redis_cluster: LocalCluster) -> LocalCluster:
    redis_cluster.flush()
    return redis_cluster


@pytest.fixture(params=["redis", "redis-cluster"])
def redis_backend(request: pytest.FixtureRequest) -> RedisServer | LocalCluster:
    """One Redis server or a Redis Cluster, emptied for this test: both have ``url`` and ``client()``."""
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("flushed_redis")
        return server
    cluster: LocalCluster = request.getfixturevalue("flushed_cluster")
    return cluster
