"""Start a Redis Cluster for a load run: ``shards`` primaries with a replica each, on free loopback ports.

Each node needs its port and its cluster-bus port (port + 10000) free. The
nodes run with the AOF on (``appendfsync`` as asked); the caller measures each
node's CPU as its own process, so the report shows Redis CPU per shard.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
BUS_OFFSET = 10000


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def cluster_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(20000, 55000)
        if port not in ports and _bindable(port) and _bindable(port + BUS_OFFSET):
            ports.append(port)
    return ports


def start_redis_cluster(
    start: Callable[[str, list[str], Path, str | None], Any],
    redis_server: str,
    shards: int,
    fsync: str,
    work: Path,
    logs: Path,
    cpus: str | None,
) -> tuple[list[Any], list[str]]:
    """Start the nodes with ``start`` (the runner's Children.start), join them: (the nodes' children, their URLs)."""
    ports = cluster_ports(2 * shards)
    children = []
    for n, port in enumerate(ports):
        directory = work / f"redis-{n}"
        directory.mkdir(parents=True)
        role = f"shard-{n + 1}" if n < shards else f"replica-{n - shards + 1}"
        cmd = [
            redis_server, "--bind", LOOPBACK, "--port", str(port), "--dir", str(directory),
            "--save", "", "--appendonly", "yes", "--appendfsync", fsync,
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
        ]  # fmt: skip
        children.append(start(f"redis-{role}", cmd, logs / f"redis-{n}.log", cpus))
    for port in ports:
        _wait_ping(port)
    # redis-cli makes the first `shards` nodes primaries, the others their replicas.
    addresses = [f"{LOOPBACK}:{port}" for port in ports]
    redis_cli = str(Path(redis_server).with_name("redis-cli"))
    created = subprocess.run(
        [redis_cli, "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if created.returncode != 0:
        raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout}\n{created.stderr}")
    deadline = time.monotonic() + 30
    while not all(_cluster_ok(port) for port in ports):
        if time.monotonic() > deadline:
            raise RuntimeError("the Redis Cluster did not settle")
        time.sleep(0.1)
    return children, [f"redis://{address}" for address in addresses]


def _ask(port: int, command: bytes) -> bytes:
    with socket.create_connection((LOOPBACK, port), timeout=2) as conn:
        conn.sendall(command)
        time.sleep(0.05)
        return conn.recv(65536)


def _wait_ping(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if _ask(port, b"PING\r\n").startswith(b"+PONG"):
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"redis-server on port {port} did not answer PING")


def _cluster_ok(port: int) -> bool:
    try:
        return b"cluster_state:ok" in _ask(port, b"CLUSTER INFO\r\n")
    except OSError:
        return False
