"""Erasing an event with several processes sharing Redis: every process lets go, no key or AOF byte is left."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from typing import Any

from cluster import Cluster

from boards import Event, board_client, call, create_event
from candor.errors import WS_4404_ROOM_NOT_FOUND

NOTE = "Taking account of the power relationship in the sharing - to whom are you disclosing?"
SIGNED = "Mindset that failure can prevent broader waste of effort or resources."
DRAFT = "Important to look at all contributors to failure - hard to establish in orgs and between systems."
KEPT = "Create cross-institutional support to be open about failure and learning"


def on(server: Any, event: Event) -> Event:
    """The same event, reached through another process."""
    return Event(server, event.data)


def keys_of(cluster: Cluster, event: Event) -> list[bytes]:
    with cluster.redis.client() as client:
        code = f"joincode:{event.data['join_code']}".encode()
        return [key for key in client.scan_iter(count=1000) if event.id.encode() in key or key.endswith(code)]


def files_bytes(cluster: Cluster) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(cluster.redis.files()))


async def test_an_erased_event_leaves_no_key_and_no_aof_byte_and_every_process_lets_go(cluster: Cluster) -> None:
    first, second, third = cluster.servers
    event = create_event(first, title="Engage unconference, Redis", template="beyond-hero-stories", rooms=1)
    kept = create_event(first, title="Kept", template="blank", rooms=1)
    room = event.breakouts[0]
    ada = event.join("Ada")
    bo = event.join("Bo")
    drafts = f"{room}~{ada.subject}"
    async with AsyncExitStack() as stack:
        # Each process holds the rooms: the writers on the second and third, a reader on the first.
        writer = await stack.enter_async_context(board_client(on(second, event), room, ada.token, ada.subject, "Ada"))
        private = await stack.enter_async_context(board_client(on(third, event), drafts, ada.token, ada.subject, "Ada"))
        reader = await stack.enter_async_context(board_client(event, room, bo.token, bo.subject))
        await writer.add_note(NOTE, "define-the-problem")
        await writer.add_note(SIGNED, "practical-ideas", author_name="Ada")
        await private.add_note(DRAFT, "what-did-you-do")
        for client in (writer, private):
            await client.wait_for_confirmed(lambda board, c=client: board == c.board(), within_s=10)
        await reader.wait_for_confirmed(lambda board: len(board["notes"]) == 2, within_s=10)
        async with board_client(kept, kept.breakouts[0], kept.facilitator, "facilitator") as host:
            await host.add_note(KEPT, "notes")
            await host.wait_for_confirmed(lambda board: len(board["notes"]) == 1)
        cluster.redis.rewrite_aof()  # the text is in the files before (an AOF rewrite also writes it in the base file)
        await asyncio.sleep(0.5)
        assert all(text.encode() in files_bytes(cluster) for text in (NOTE, SIGNED, DRAFT))

        closing = [asyncio.create_task(c.y.closed_by_server(within_s=10)) for c in (writer, private, reader)]
        reply = call(third, "DELETE", f"/api/events/{event.id}", token=event.facilitator)
        assert reply.status == 200, reply
        assert reply.body["rooms_erased"] == 3  # the breakout room, the plenary and Ada's drafts room
        for done in await asyncio.gather(*closing):
            assert done[0] == WS_4404_ROOM_NOT_FOUND, done

    # Whatever the processes held was let go before the keys went: nothing is written back.
    await asyncio.sleep(1.5)
    assert keys_of(cluster, event) == [], keys_of(cluster, event)
    gone = (NOTE, SIGNED, DRAFT, event.id, "Engage unconference, Redis")
    deadline = time.monotonic() + 5  # Redis unlinks the old AOF files on a background thread (each node's)
    while any(text.encode() in files_bytes(cluster) for text in gone) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    stored = files_bytes(cluster)
    for text in gone:
        assert text.encode() not in stored, text
    assert KEPT.encode() in stored
    for server in cluster.servers:
        assert call(server, "GET", f"/api/events/{event.id}", token=event.facilitator).status == 404
        assert call(server, "GET", f"/api/events/{kept.id}", token=kept.facilitator).status == 200
