"""Three processes on a real 6-node Redis Cluster: the scale-out suites, a primary killed, a slot moved, a window shown.

The processes run with ``--redis-wait-replicas 1`` and are each given a
different node's URL. The convergence, control and erasure tests of the
single-Redis suites run here as well (imported below, on this module's
cluster). Then the faults: a Candor process killed, the primary holding a room
killed while its clients write (its replica takes over), the room's slot moved
to another primary while it is written, and what ``--redis-wait-replicas``
changes when a primary dies with writes its replica never got.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
from cluster import Cluster, start_on_redis_cluster
from roaming import RoamingClient, converged, roaming
from test_scaleout_controls import (
    test_a_purge_holds_the_room_on_every_process_and_nothing_writes_the_words_back,
    test_revoking_closes_participants_on_every_process_within_a_second,
)
from test_scaleout_convergence import (
    test_an_event_board_edited_through_every_process_converges,
    test_clients_on_three_processes_converge_on_one_open_board,
    test_presence_crosses_processes_and_leaves_with_its_client,
)
from test_scaleout_erase import test_an_erased_event_leaves_no_key_and_no_aof_byte_and_every_process_lets_go
from test_scaleout_process_kill import test_clients_of_a_killed_process_move_to_another_and_lose_nothing

from candor.errors import WS_1013_TRY_AGAIN_LATER
from candor.ids import RoomId
from candor.log.redis_names import room_key
from redis_cluster import LocalCluster
from yclient import yclient

__all__ = [
    "test_a_purge_holds_the_room_on_every_process_and_nothing_writes_the_words_back",
    "test_an_erased_event_leaves_no_key_and_no_aof_byte_and_every_process_lets_go",
    "test_an_event_board_edited_through_every_process_converges",
    "test_clients_of_a_killed_process_move_to_another_and_lose_nothing",
    "test_clients_on_three_processes_converge_on_one_open_board",
    "test_presence_crosses_processes_and_leaves_with_its_client",
    "test_revoking_closes_participants_on_every_process_within_a_second",
]


@pytest.fixture(scope="module")
def on_redis_cluster(make_module_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("on-redis-cluster")
    yield from start_on_redis_cluster(make_module_server, base, "--redis-wait-replicas", "1")


@pytest.fixture
def cluster(on_redis_cluster: Cluster) -> Cluster:
    """The imported tests' ``cluster``: this module's, every process and node running, all nodes agreeing."""
    on_redis_cluster.restart_dead()
    shards(on_redis_cluster).wait_until_healthy()
    return on_redis_cluster


@pytest.fixture
def shared_cluster(cluster: Cluster) -> Cluster:
    return cluster


def shards(cluster: Cluster) -> LocalCluster:
    assert isinstance(cluster.redis, LocalCluster)
    return cluster.redis


async def _write(client: RoamingClient, count: int, pause_s: float) -> None:
    for n in range(count):
        await client.write(f"{client.name}-{n}")
        await asyncio.sleep(pause_s)


def _longest_silence_s(witnesses: list[RoamingClient]) -> float:
    """The longest time no witness received any update (while clients kept writing)."""
    times = sorted(t for witness in witnesses for t in witness.received_at)
    return max((later - earlier for earlier, later in pairwise(times)), default=0.0)


async def test_a_primary_killed_while_clients_write_fails_over_and_nothing_broadcast_is_lost(cluster: Cluster) -> None:
    room = "failover"
    writers = [RoamingClient(cluster.ws_urls(room, first=i % 3), f"w{i}") for i in range(6)]
    # Witnesses never send what they saw back: what they saw must have come from the log.
    witnesses = [RoamingClient(cluster.ws_urls(room, first=i), f"seen{i}", forgetful=True) for i in range(3)]
    key = room_key(RoomId(room), "log")
    primary = shards(cluster).primary_of(key)
    async with roaming(writers + witnesses):
        writing = asyncio.gather(*(_write(client, 150, 0.03) for client in writers))
        await asyncio.sleep(1.0)
        killed_at = time.monotonic()
        primary.server.kill()
        successor = await asyncio.to_thread(shards(cluster).wait_for_new_primary, key, primary)
        failover_s = time.monotonic() - killed_at
        await writing
        written = {key for client in writers for key in client.written}
        await converged(writers, written, within_s=30)
    seen = {key for witness in witnesses for key in witness.confirmed_keys()}
    boards = [server.get(f"/api/rooms/{room}/board") for server in cluster.servers]
    notes = set(boards[0]["board"]["notes"])
    print(
        f"\nfailover: {len(written)} notes written by 6 clients on 3 processes, {len(seen)} seen broadcast by "
        f"witnesses, {len(notes)} on the board; {successor.address} took over from {primary.address} in "
        f"{failover_s:.1f} s; longest time without a broadcast {_longest_silence_s(witnesses):.1f} s; "
        f"reconnections {sum(c.connections - 1 for c in writers + witnesses)}"
    )
    assert notes == written
    assert seen <= notes
    assert all(board == boards[0] for board in boards)
    primary.server.start()  # it comes back as a replica of its successor
    await asyncio.to_thread(shards(cluster).wait_until_healthy)


async def test_moving_a_rooms_slot_while_it_is_written_closes_nobody_and_loses_nothing(cluster: Cluster) -> None:
    room = "resharded"
    key = room_key(RoomId(room), "log")
    source = shards(cluster).primary_of(key)
    target = next(node for node in shards(cluster).primaries() if node is not source)
    writers = [RoamingClient(cluster.ws_urls(room, first=i % 3), f"w{i}") for i in range(6)]
    async with roaming(writers):
        writing = asyncio.gather(*(_write(client, 100, 0.02) for client in writers))
        await asyncio.sleep(0.5)
        moved = await asyncio.to_thread(shards(cluster).move_slot, key, target, 0.05)
        await writing
        written = {key for client in writers for key in client.written}
        await converged(writers, written, within_s=20)
    assert moved >= 3  # the room's log, head and clock, at least
    assert shards(cluster).primary_of(key) is target
    # MOVED and ASK were followed: nobody was told the log is unavailable, nobody reconnected.
    assert [client.connections for client in writers] == [1] * 6, [c.close_codes for c in writers]
    boards = [server.get(f"/api/rooms/{room}/board") for server in cluster.servers]
    assert set(boards[0]["board"]["notes"]) == written
    assert all(board == boards[0] for board in boards)


async def test_an_update_its_shards_replica_did_not_confirm_is_refused_and_never_broadcast(
    cluster: Cluster, make_module_server: Any, tmp_path: Any
) -> None:
    """With ``--redis-wait-replicas 1``: the replica is paused (it acknowledges nothing), a note is written: the
    writer is told 1013 and nobody sees it. Then the primary dies and the replica takes over: everything anyone
    saw is on the board. (Without the option the note is broadcast at once, before any replica has it.)"""
    server = make_module_server("--redis-url", shards(cluster).url, "--redis-wait-replicas", "1", data_dir=tmp_path)
    room = "unconfirmed"
    key = room_key(RoomId(room), "log")
    primary = shards(cluster).primary_of(key)
    replica = shards(cluster).replica_of(primary)
    async with yclient(server.ws_url(room)) as writer, yclient(server.ws_url(room)) as witness:
        await writer.edit(before="Reframe failure as learning")
        await witness.wait_for(lambda: "before" in witness.confirmed_notes())
        replica.server.pause()
        try:
            await writer.edit(during="Find allies and buddies to create safe spaces")
            closed = await writer.closed_by_server(within_s=5)
            seen = set(witness.confirmed_notes())
        finally:
            primary.server.kill()
            replica.server.resume()
    assert closed[0] == WS_1013_TRY_AGAIN_LATER, closed  # told to try again, not shown as kept
    assert seen == {"before"}
    await asyncio.to_thread(shards(cluster).wait_for_new_primary, key, primary)
    assert seen <= set(await _board_when_served(server, room))
    primary.server.start()
    await asyncio.to_thread(shards(cluster).wait_until_healthy)


async def _board_when_served(server: Any, room: str, within_s: float = 15.0) -> dict[str, Any]:
    """The room's notes, once the process reaches the room's new primary."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            notes: dict[str, Any] = server.get(f"/api/rooms/{room}/board")["board"]["notes"]
            return notes
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
