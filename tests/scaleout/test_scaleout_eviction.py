"""A process lets go of a room its own clients left, however busy the room stays on the other processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster import Cluster, start_cluster

from yclient import yclient

IDLE_TIMEOUT_S = 0.5


@pytest.fixture
def quick_cluster(make_server: Any, tmp_path: Path) -> Iterator[Cluster]:
    yield from start_cluster(make_server, tmp_path, "--idle-timeout", str(IDLE_TIMEOUT_S))


async def test_a_room_without_local_peers_is_evicted_while_others_write_to_it(quick_cluster: Cluster) -> None:
    here, there = quick_cluster.servers[0], quick_cluster.servers[1]
    async with yclient(here.ws_url("busy")) as writer:
        async with yclient(there.ws_url("busy")) as visitor:
            await writer.edit(first=1)
            await visitor.wait_for(lambda: visitor.notes_json() == {"first": 1})
        assert there.get("/healthz")["rooms_loaded"] == 1
        # The writer keeps the room busy through process 0, several times per idle timeout, for
        # four timeouts; process 1, with no client in it any more, must unload it meanwhile.
        deadline = time.monotonic() + 4 * IDLE_TIMEOUT_S
        n = 0
        while time.monotonic() < deadline and there.get("/healthz")["rooms_loaded"]:
            n += 1
            await writer.edit(**{f"n{n}": n})
            await asyncio.sleep(IDLE_TIMEOUT_S / 5)
        assert there.get("/healthz")["rooms_loaded"] == 0, f"still loaded after {n} remote writes"
        assert here.get("/healthz")["rooms_loaded"] == 1
    # ... and it serves the room again, complete, to the next client who comes.
    async with yclient(there.ws_url("busy")) as again:
        await again.wait_for(lambda: len(again.notes_json()) == n + 1)
