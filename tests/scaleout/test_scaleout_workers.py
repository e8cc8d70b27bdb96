"""`candor serve --workers N --redis-url ...`: worker processes on one port share every board through Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from roaming import RoamingClient, converged, roaming

from redis_server import RedisServer


def workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn spawned under ``pid`` (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in command:
                found.append(int(entry.name))
    return found


def test_more_than_one_worker_needs_redis(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "candor", "serve", "--workers", "2", "--data", str(tmp_path), "--port", "0"]
    result = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert result.returncode == 2
    assert b"--redis-url" in result.stderr


async def test_worker_processes_on_one_port_share_one_board(make_server: Any, tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    server = make_server("--redis-url", redis.url, "--workers", "2", data_dir=tmp_path / "candor")
    workers: list[int] = []
    stopped = False
    try:
        deadline = time.monotonic() + 15
        while len(workers := workers_of(server.proc.pid)) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert len(workers) == 2
        clients = [RoamingClient([server.ws_url("board")], f"c{i}") for i in range(6)]
        async with roaming(clients):
            for n in range(10):
                for client in clients:
                    await client.write(f"{client.name}-{n}")
            written = {key for client in clients for key in client.written}
            await converged(clients, written)
        assert set(server.get("/api/rooms/board/board")["board"]["notes"]) == written
        assert server.terminate() == 0  # SIGTERM: uvicorn stops its workers too
        stopped = True
    finally:
        if not stopped:  # SIGKILL, as make_server does to its parent, would leave the workers running
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        redis.kill()
