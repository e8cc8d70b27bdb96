"""The README's balancer recipe (docs/haproxy.cfg) in front of two processes: each room stays on one process.

HAProxy from Debian's package runs the documented file, its ports changed to
free ones. Clients of eight rooms connect through it only: every room is
loaded on exactly one process (affinity by the room's path), the rooms spread
over both processes, websocket upgrades pass, and every room converges.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from roaming import RoamingClient, converged, roaming

from redis_cluster import cluster_ports
from redis_server import RedisServer

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "haproxy.cfg"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
ROOMS = [f"breakout-{n}" for n in range(8)]


def rooms_loaded(server: Any) -> int:
    with urllib.request.urlopen(server.http_url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(r"^candor_rooms_loaded (\S+)$", text, re.MULTILINE)
    assert found, text
    return int(float(found.group(1)))


@pytest.fixture
def balanced(make_server: Any, tmp_path: Path) -> Iterator[tuple[str, list[Any]]]:
    """Redis, two processes, and HAProxy on the documented config: (the balancer's ws base URL, the processes)."""
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    proxy = None
    try:
        servers = [make_server("--redis-url", redis.url, data_dir=tmp_path / f"candor-{i}") for i in range(2)]
        [port] = cluster_ports(1)
        config = RECIPE.read_text()
        config = config.replace("bind 127.0.0.1:8000", f"bind 127.0.0.1:{port}")
        config = config.replace("127.0.0.1:8001", f"127.0.0.1:{servers[0].port}")
        config = config.replace("127.0.0.1:8002", f"127.0.0.1:{servers[1].port}")
        path = tmp_path / "haproxy.cfg"
        path.write_text(config)
        log = open(tmp_path / "haproxy.log", "wb")
        proxy = subprocess.Popen([HAPROXY, "-db", "-f", str(path)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        _wait_for_port(port, proxy, tmp_path / "haproxy.log")
        yield f"ws://127.0.0.1:{port}", servers
    finally:
        if proxy is not None:
            proxy.kill()
            proxy.wait(10)
        redis.kill()


def _wait_for_port(port: int, proxy: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proxy.poll() is not None:
            raise RuntimeError(f"haproxy exited:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("haproxy did not listen")


async def _write(client: RoamingClient, count: int) -> None:
    for n in range(count):
        await client.write(f"{client.name}-{n}")
        await asyncio.sleep(0.01)


async def test_the_balancer_recipe_keeps_each_room_on_one_process_and_spreads_the_rooms(
    balanced: tuple[str, list[Any]],
) -> None:
    base, servers = balanced
    clients = [RoamingClient([f"{base}/ws/{room}"], f"{room}-c{i}") for room in ROOMS for i in range(3)]
    async with roaming(clients):
        await asyncio.gather(*(_write(client, 10) for client in clients))
        for room in ROOMS:
            in_room = [client for client in clients if client.name.startswith(f"{room}-")]
            await converged(in_room, {key for client in in_room for key in client.written})
        loaded = [rooms_loaded(server) for server in servers]
    assert sum(loaded) == len(ROOMS), loaded  # no room is loaded on both: its clients all went to one process
    assert all(count > 0 for count in loaded), loaded  # and the rooms spread over both
    assert all(client.connections == 1 for client in clients)
