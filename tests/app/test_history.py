"""Any past state: `candor replay` and GET /board?at= agree, and start from the nearest snapshot."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from yclient import yclient


def replay(data_dir: Any, room: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "candor", "replay", room, "--data", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.fixture
async def written_room(make_server: Any) -> tuple[Any, list[float]]:
    """Room 'hist' with 30 updates (note n<i> = i), snapshots every 10; returns times after each."""
    server = make_server("--snapshot-every", "10")
    times: list[float] = []
    async with yclient(server.ws_url("hist")) as c:
        for i in range(1, 31):
            await c.edit(**{f"n{i}": i})
            await c.wait_for(lambda i=i: len(c.received_updates) == i)
            times.append(time.time())
            await asyncio.sleep(0.005)
    return server, times


async def test_board_at_a_seq_uses_the_nearest_snapshot(written_room: tuple[Any, list[float]]) -> None:
    server, _ = written_room
    at_25 = server.get("/api/rooms/hist/board?at=25")
    assert at_25["seq"] == 25
    assert at_25["snapshot_seq"] == 20
    assert at_25["board"]["notes"] == {f"n{i}": i for i in range(1, 26)}
    at_7 = server.get("/api/rooms/hist/board?at=7")
    assert at_7["snapshot_seq"] == 0
    assert set(at_7["board"]["notes"]) == {f"n{i}" for i in range(1, 8)}


async def test_board_at_a_time(written_room: tuple[Any, list[float]]) -> None:
    server, times = written_room
    moment = datetime.fromtimestamp(times[11] + 0.002, tz=UTC).isoformat()
    board = server.get(f"/api/rooms/hist/board?at={moment.replace('+00:00', 'Z')}")
    assert board["seq"] == 12


async def test_replay_cli_prints_the_same_board_as_the_api(written_room: tuple[Any, list[float]]) -> None:
    server, _ = written_room
    assert replay(server.data_dir, "hist", "--at", "17") == server.get("/api/rooms/hist/board?at=17")
    assert replay(server.data_dir, "hist")["seq"] == 30


async def test_bad_at_and_unknown_room_are_clear_errors(written_room: tuple[Any, list[float]]) -> None:
    server, _ = written_room
    status, body = server.get_error("/api/rooms/hist/board?at=yesterday")
    assert status == 400 and "ISO 8601" in body["error"]["message"]
    status, body = server.get_error("/api/rooms/nobody-here/board")
    assert status == 404 and body["error"]["code"] == "room_not_found"
