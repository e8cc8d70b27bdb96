"""Fixtures: a real Candor server process on a free port with its own SQLite file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

TESTS = Path(__file__).parent

# How a server's websockets are served, as uvicorn's own tests parametrize ``ws_protocol_cls``:
# Candor's direct protocol class (``candor serve``'s default), or uvicorn's own through ASGI.
IO_MODES = {"direct-io": "on", "asgi-io": "off"}
# The websocket suites, whose servers run in both modes; every other test runs in the default one.
BOTH_IO_MODES = (
    "app",
    "rooms",
    "protocol",
    "interop",
    "board/test_roles.py",  # permission-denied frames
    "board/test_private_notes.py",
    "events/test_revoke.py",  # the revoke and erase closes
    "events/test_erase.py",
    "history/test_purge.py",
    "fuzz/test_fuzz_server.py",
)


def runs_in_both_io_modes(path: Path) -> bool:
    relative = path.relative_to(TESTS)
    return any(relative == Path(entry) or Path(entry) in relative.parents for entry in BOTH_IO_MODES)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "io_mode" in metafunc.fixturenames and runs_in_both_io_modes(metafunc.definition.path):
        # Module scope: a module's shared server is started once per mode.
        metafunc.parametrize("io_mode", list(IO_MODES.values()), ids=list(IO_MODES), scope="module")


@pytest.fixture(scope="session")
def io_mode() -> str:
    """``--direct-io`` for the servers a test starts: the default, unless the test runs in both modes."""
    return "on"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A `candor serve` child process; tests may kill and restart it."""

    data_dir: Path
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    log_dir: Path | None = None  # where its output goes; by default beside the data directory

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, room: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/{room}"

    def start(self) -> None:
        self.log_path = (self.log_dir or self.data_dir.parent) / f"server-{self.port}-{time.monotonic_ns()}.log"
        cmd = [
            sys.executable, "-m", "candor", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--data", str(self.data_dir), "--log-level", "warning",
            *self.extra_args,
        ]  # fmt: skip
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not answer /healthz:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.http_url + path, timeout=5) as response:
            return json.loads(response.read())

    def get_error(self, path: str) -> tuple[int, Any]:
        try:
            urllib.request.urlopen(self.http_url + path, timeout=5)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        raise AssertionError(f"GET {path} succeeded")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        """SIGTERM: a clean shutdown; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def _server_factory(base: Path, io_mode: str) -> Iterator[Any]:
    started: list[ServerProcess] = []

    def make(
        *args: str, data_dir: Path | None = None, open_rooms: bool = True, creation_limit: bool = False
    ) -> ServerProcess:
        """A server; ``open_rooms`` (on by default) lets tests use any room name without an event.

        Tests create far more events from one address than a person would: the
        limit on creating events is off unless ``creation_limit`` is asked for.
        """
        extra = [*args, "--open-rooms"] if open_rooms else list(args)
        extra += ["--direct-io", io_mode]
        if not creation_limit:
            extra += ["--max-events-per-hour", "0"]
        server = ServerProcess(data_dir or base / "data", extra, log_dir=base)
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def make_server(tmp_path: Path, io_mode: str) -> Iterator[Any]:
    """Start servers with extra CLI arguments; every one is stopped at the end."""
    yield from _server_factory(tmp_path, io_mode)


@pytest.fixture(scope="module")
def make_module_server(tmp_path_factory: pytest.TempPathFactory, io_mode: str) -> Iterator[Any]:
    """Like ``make_server``, for servers a whole test module shares (each test keeps to its own rooms)."""
    yield from _server_factory(tmp_path_factory.mktemp("module"), io_mode)


@pytest.fixture
def server(make_server: Any) -> ServerProcess:
    return make_server()  # type: ignore[no-any-return]


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
