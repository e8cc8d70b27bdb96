"""A real ``redis-server`` child process on a free loopback port, with its append-only file on; tests may kill it."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    """``start`` again after ``kill``/``terminate`` reuses the port and the directory, so the AOF is replayed."""

    directory: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None
    options: tuple[str, ...] = ()  # more redis-server options (a cluster node's)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = open(self.directory / "redis.log", "ab")
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
                # Uncompressed values, so a test can look for a string in the files and in DUMP.
                "--rdbcompression", "no",
                "--dir", str(self.directory), "--daemonize", "no",
                *self.options,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited early:\n{self.log()}")
            if self.ping():
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer:\n{self.log()}")

    def client(self) -> redis.Redis:
        """A plain (synchronous) client, for a test to look at or plant data."""
        return redis.Redis.from_url(self.url)

    def rewrite_aof(self) -> None:
        with self.client() as client:
            client.bgrewriteaof()

    def ping(self) -> bool:
        """True once the server answers PING with PONG (not while it loads its files)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: what the AOF already wrote survives, nothing else runs."""
        self._signal(signal.SIGKILL)

    def terminate(self) -> None:
        """SIGTERM: Redis fsyncs its AOF and exits."""
        self._signal(signal.SIGTERM)

    def pause(self) -> None:
        """SIGSTOP: the server answers nobody, not even its replicas or the cluster bus, until :meth:`resume`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _signal(self, signum: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a paused server must be able to act on the signal
            self.proc.send_signal(signum)
            self.proc.wait(10)

    def files(self) -> list[Path]:
        """Every persistence file in the directory (the AOF directory included)."""
        return [p for p in self.directory.rglob("*") if p.is_file() and p.name != "redis.log"]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the whole session; tests that share it flush it first."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture
def flushed_redis(redis_server: RedisServer) -> RedisServer:
    """The session's redis-server, emptied for this test."""
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server
