"""Revoke and purge reach every process sharing Redis: participants are closed wherever they are connected,
and a purge is never undone by another process that held the room."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from typing import Any

from cluster import Cluster

from boards import Event, board_client, call, create_event
from candor.errors import WS_1013_TRY_AGAIN_LATER, WS_4401_UNAUTHORIZED

REGRET = "Embarrassed that I hadn't talked about it much before - revealed a lot, helped to revisit it."
KEPT = "A good experience, comfortable in a supportive group."


def on(server: Any, event: Event) -> Event:
    """The same event, reached through another process."""
    return Event(server, event.data)


def stored_bytes(cluster: Cluster) -> bytes:
    with cluster.redis.client() as client:
        keys = b"".join(client.dump(key) or b"" for key in client.scan_iter("candor:*", count=1000))
    return keys + b"".join(path.read_bytes() for path in sorted(cluster.redis.files()))


async def test_revoking_closes_participants_on_every_process_within_a_second(cluster: Cluster) -> None:
    first, second, third = cluster.servers
    event = create_event(first, template="beyond-hero-stories", rooms=2)
    ada, bo = event.join("Ada"), event.join("Bo")
    async with AsyncExitStack() as stack:
        on_second = await stack.enter_async_context(
            board_client(on(second, event), event.breakouts[0], ada.token, ada.subject, "Ada")
        )
        on_third = await stack.enter_async_context(
            board_client(on(third, event), event.breakouts[1], bo.token, bo.subject, "Bo")
        )
        host = await stack.enter_async_context(
            board_client(on(third, event), event.breakouts[1], event.facilitator, "facilitator")
        )
        started = time.monotonic()
        reply = call(first, "POST", f"/api/events/{event.id}/revoke", token=event.facilitator)
        assert reply.status == 200, reply
        closes = await asyncio.gather(on_second.y.closed_by_server(), on_third.y.closed_by_server())
        assert time.monotonic() - started < 1.0
        assert [code for code, _ in closes] == [WS_4401_UNAUTHORIZED] * 2, closes
        assert reply.body["participants_closed"] == 2  # counted on every process, not only the one asked
        assert host.y.ws.close_code is None  # the facilitator stays
        await host.add_note(KEPT, "how-did-it-feel")
        await host.wait_for_confirmed(lambda board: len(board["notes"]) == 1)
    # The old participant tokens open no room on any process.
    for server in cluster.servers:
        denied = call(server, "GET", f"/api/rooms/{event.breakouts[0]}/board", token=ada.token)
        assert denied.status == 401, denied


async def test_a_purge_holds_the_room_on_every_process_and_nothing_writes_the_words_back(cluster: Cluster) -> None:
    first, second, third = cluster.servers
    event = create_event(first, template="beyond-hero-stories", rooms=1)
    room = event.breakouts[0]
    ada, bo = event.join("Ada"), event.join("Bo")
    async with AsyncExitStack() as stack:
        writer = await stack.enter_async_context(board_client(on(second, event), room, ada.token, ada.subject, "Ada"))
        reader = await stack.enter_async_context(board_client(on(third, event), room, bo.token, bo.subject, "Bo"))
        regret = await writer.add_note(REGRET, "how-did-it-feel", author_name="Ada")
        await writer.add_note(KEPT, "how-did-it-feel")
        await writer.set_note(regret, withdrawn=True)
        await reader.wait_for_confirmed(lambda board: board["notes"].get(regret, {}).get("withdrawn") is True)
        closing = [asyncio.create_task(c.y.closed_by_server(within_s=10)) for c in (writer, reader)]
        reply = call(first, "POST", f"/api/rooms/{room}/purge", token=event.facilitator)
        assert reply.status == 200, reply
        assert reply.body["purged"] == [regret]
        for code, _ in await asyncio.gather(*closing):
            assert code == WS_1013_TRY_AGAIN_LATER
    # Back on the processes that held it: the note is there, its words are not, and the room works.
    async with board_client(on(second, event), room, ada.token, ada.subject, "Ada") as again:
        note = again.confirmed()["notes"][regret]
        assert note["text"] == "" and note.get("author_name") is None
        await again.add_note("After the purge", "how-did-it-feel")
        await again.wait_for_confirmed(lambda board: len(board["notes"]) == 3)
    cluster.redis.rewrite_aof()
    await asyncio.sleep(1.0)
    stored = stored_bytes(cluster)
    assert REGRET.encode() not in stored
    assert KEPT.encode() in stored
