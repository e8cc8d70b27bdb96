"""Clients connected to different processes edit the same board and converge; every process serves the same board."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from cluster import Cluster
from roaming import RoamingClient, converged, roaming

from boards import Event, board_client, call, create_event, custom_template
from yclient import yclient


async def _write(client: RoamingClient, count: int, pause_s: float) -> None:
    for n in range(count):
        await client.write(f"{client.name}-{n}")
        await asyncio.sleep(pause_s)


async def test_clients_on_three_processes_converge_on_one_open_board(shared_cluster: Cluster) -> None:
    clients = [RoamingClient(shared_cluster.ws_urls("board", first=i % 3), f"c{i}") for i in range(6)]
    async with roaming(clients):
        await asyncio.gather(*(_write(client, 25, 0.005) for client in clients))
        written = {key for client in clients for key in client.written}
        await converged(clients, written)
    assert [client.connections for client in clients] == [1] * 6  # nobody had to move
    boards = [server.get("/api/rooms/board/board") for server in shared_cluster.servers]
    assert set(boards[0]["board"]["notes"]) == written
    assert boards[0]["seq"] >= 1
    assert all(board == boards[0] for board in boards)


async def test_an_event_board_edited_through_every_process_converges(shared_cluster: Cluster) -> None:
    event = create_event(shared_cluster.servers[0], template=custom_template(), rooms=1)
    room = event.breakouts[0]
    # Each process joins one participant: they share the event store and the token secret.
    via = [Event(server, event.data) for server in shared_cluster.servers]
    people = [via[i].join(f"Person {i}") for i in range(3)]
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(board_client(via[i], room, person.token, person.subject, person.name))
            for i, person in enumerate(people)
        ]
        notes = [await client.add_note(f"a note from process {i}") for i, client in enumerate(clients)]
        for client in clients:
            await client.wait_for_confirmed(lambda board: set(notes) <= set(board["notes"]), within_s=10)
        path = f"/api/rooms/{room}/board?token={event.facilitator}"
        boards = [call(server, "GET", path) for server in shared_cluster.servers]
        assert all(reply.status == 200 for reply in boards), boards
        assert set(boards[0].body["board"]["notes"]) == set(notes)
        assert all(reply.body == boards[0].body for reply in boards)
        assert all(client.confirmed() == boards[0].body["board"] for client in clients)


async def test_presence_crosses_processes_and_leaves_with_its_client(shared_cluster: Cluster) -> None:
    first, second, third = (server.ws_url("presence") for server in shared_cluster.servers)
    async with yclient(first) as ada, yclient(second) as bo:
        await ada.send_presence({"name": "Ada"})
        await bo.wait_for(lambda: ada.doc.client_id in bo.presence_of_others())
        # A newcomer on a third process learns who is present elsewhere without waiting for a renewal.
        async with yclient(third) as newcomer:
            await newcomer.wait_for(lambda: ada.doc.client_id in newcomer.presence_of_others())
            assert newcomer.presence_of_others()[ada.doc.client_id] == {"name": "Ada"}
        ada.ws.transport.abort()  # gone without a goodbye: its process removes it for everyone
        await bo.wait_for(lambda: ada.doc.client_id not in bo.presence_of_others())
    # Presence is relayed, never logged: the room has no record on any process.
    assert all(server.get_error("/api/rooms/presence/board")[0] == 404 for server in shared_cluster.servers)
