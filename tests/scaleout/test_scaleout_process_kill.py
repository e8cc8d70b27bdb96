"""SIGKILL one of three processes mid-session: its clients reconnect to another and lose nothing."""

from __future__ import annotations

import asyncio

from cluster import Cluster
from roaming import RoamingClient, converged, roaming


async def _write(client: RoamingClient, count: int, pause_s: float) -> None:
    for n in range(count):
        await client.write(f"{client.name}-{n}")
        await asyncio.sleep(pause_s)


async def test_clients_of_a_killed_process_move_to_another_and_lose_nothing(cluster: Cluster) -> None:
    clients = [RoamingClient(cluster.ws_urls("board", first=i % 3), f"c{i}") for i in range(6)]
    victim = cluster.servers[1]
    async with roaming(clients):
        writing = asyncio.gather(*(_write(client, 60, 0.01) for client in clients))
        await asyncio.sleep(0.3)
        victim.kill()  # no shutdown code runs: no flush, no goodbye to its clients
        await writing
        written = {key for client in clients for key in client.written}
        await converged(clients, written, within_s=20)
    moved = [client for client in clients if client.urls[0] == victim.ws_url("board")]
    assert moved and all(client.connections >= 2 for client in moved)
    seen = {key for client in clients for key in client.confirmed_keys()}  # every update a client saw broadcast
    for server in (cluster.servers[0], cluster.servers[2]):
        notes = server.get("/api/rooms/board/board")["board"]["notes"]
        assert set(notes) == written
        assert seen <= set(notes)
