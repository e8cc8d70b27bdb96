"""Redis restarts mid-session: clients are told 1013 while it is down, then everything resyncs and nothing is lost."""

from __future__ import annotations

import asyncio

from cluster import Cluster
from roaming import RoamingClient, converged, roaming
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from candor.errors import WS_1013_TRY_AGAIN_LATER


async def _write(client: RoamingClient, count: int, pause_s: float) -> None:
    for n in range(count):
        await client.write(f"{client.name}-{n}")
        await asyncio.sleep(pause_s)


async def _close_code_of_a_new_join(url: str) -> int | None:
    async with connect(url, open_timeout=5) as ws:
        try:
            async with asyncio.timeout(5):
                await ws.recv()
        except ConnectionClosed:
            pass
    return ws.close_code


async def test_while_redis_restarts_clients_get_1013_then_resync_and_nothing_accepted_is_lost(
    cluster: Cluster,
) -> None:
    clients = [RoamingClient(cluster.ws_urls("board", first=i % 3), f"c{i}") for i in range(6)]
    async with roaming(clients):
        writing = asyncio.gather(*(_write(client, 80, 0.02) for client in clients))
        await asyncio.sleep(0.4)
        cluster.redis.kill()  # what the AOF wrote survives; the processes are not told
        codes = [await _close_code_of_a_new_join(server.ws_url("board")) for server in cluster.servers]
        assert codes == [WS_1013_TRY_AGAIN_LATER] * 3
        await asyncio.sleep(0.5)
        cluster.redis.start()  # same port, same directory: the AOF is replayed
        await writing
        written = {key for client in clients for key in client.written}
        await converged(clients, written, within_s=25)
    # Writers were told to try again later, not left to think their edits were kept.
    assert all(WS_1013_TRY_AGAIN_LATER in client.close_codes for client in clients), [c.close_codes for c in clients]
    seen = {key for client in clients for key in client.confirmed_keys()}
    boards = [server.get("/api/rooms/board/board") for server in cluster.servers]
    assert set(boards[0]["board"]["notes"]) == written >= seen
    assert all(board == boards[0] for board in boards)
