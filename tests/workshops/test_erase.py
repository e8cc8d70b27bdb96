"""Erasing an event: nothing of it is left in storage, byte for byte, and its links answer 404/4404."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from boards import BoardClient, Event, board_client, call, create_event
from candor.errors import WS_4404_ROOM_NOT_FOUND, Unauthorized
from candor.ids import Role
from candor.log.sqlite import SqliteLog
from candor.workshops.service import EventService
from candor.workshops.store import RoomRecord, SqliteEventStore
from candor.workshops.tokens import TokenSigner

# What the groups wrote, in the seed's words: each must be in storage before, and nowhere after.
PROBLEM = (
    "Ownership of outcomes (which is then success or fail) can be in conflict with ownership of learning "
    "(I should see what can be done better)."
)
FEELING = "Embarrassed that I hadn't talked about it much before - revealed a lot, helped to revisit it."
DRAFT = "Still trying to convince colleagues PPI is a good thing to do, so less motivated/confident sharing failure"
CLUSTER = "Not being judged or blamed"
TITLE = "Beyond hero stories: Engage unconference output"
ROOM_LABEL = "Shared failure stories"
# Another event on the same server, which stays.
KEPT = "Have a 'failure session' at each team meeting"


@dataclass
class Erasable:
    event: Event
    room: str
    drafts: str
    secrets: list[bytes]  # every string of the event that storage must lose


async def write_workshop(server: Any) -> Erasable:
    """A beyond-hero-stories event with a named room, signed and anonymous notes, a cluster and a drafts room."""
    event = create_event(server, title=TITLE, template="beyond-hero-stories", rooms=1)
    added = call(server, "POST", f"/api/events/{event.id}/rooms", {"label": ROOM_LABEL}, token=event.facilitator)
    assert added.status == 201, added
    room = added.body["id"]
    ada = event.join("Ada")
    drafts = f"{room}~{ada.subject}"
    async with AsyncExitStack() as stack:
        host = await stack.enter_async_context(board_client(event, room, event.facilitator, "facilitator"))
        writer = await stack.enter_async_context(board_client(event, room, ada.token, ada.subject, "Ada"))
        private = await stack.enter_async_context(board_client(event, drafts, ada.token, ada.subject, "Ada"))
        await writer.add_note(PROBLEM, "define-the-problem")
        await writer.add_note(FEELING, "reverse-the-problem", author_name="Ada")
        await host.add_cluster("define-the-problem", CLUSTER)
        await private.add_note(DRAFT, "what-did-you-do")
        for client in (writer, host, private):
            await client.wait_for_confirmed(lambda board, c=client: board == c.board(), within_s=10)
            assert client.y.denied == [], client.y.denied_reasons()
    secrets = [s.encode() for s in (PROBLEM, FEELING, DRAFT, CLUSTER, TITLE, ROOM_LABEL, event.id)]
    return Erasable(event, room, drafts, secrets)


async def write_kept_event(server: Any) -> Event:
    kept = create_event(server, title="Kept", template="blank", rooms=1)
    async with board_client(kept, kept.breakouts[0], kept.facilitator, "facilitator") as host:
        await host.add_note(KEPT, "notes")
        await host.wait_for_confirmed(lambda board: len(board["notes"]) == 1)
    return kept


def sqlite_bytes(data_dir: Path) -> bytes:
    """Every byte of the SQLite files (databases, WAL, shared memory) in the data directory."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.iterdir()) if p.is_file() and ".sqlite3" in p.name)


def erase(event: Event, token: str | None = None) -> Any:
    return call(event.server, "DELETE", f"/api/events/{event.id}", token=token or event.facilitator)


async def close_code(url: str) -> int | None:
    async with connect(url) as ws:
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
    return ws.close_code


async def watch_until_closed(client: BoardClient) -> int | None:
    code, _ = await client.y.closed_by_server(within_s=10)
    return code


def assert_gone(shop: Erasable, old_code: str, participant_token: str) -> None:
    server, event = shop.event.server, shop.event
    assert call(server, "GET", f"/api/events/{event.id}", token=event.facilitator).status == 404
    assert call(server, "GET", f"/api/events/{event.id}", token=participant_token).status == 404
    assert call(server, "GET", f"/api/rooms/{shop.room}/board", token=event.facilitator).status == 404
    assert call(server, "GET", f"/api/join/{old_code}").status == 404
    joined = call(server, "POST", f"/api/events/{event.id}/join", {"code": old_code, "agree": True})
    assert joined.status == 404 and joined.error["code"] == "event_not_found"
    assert erase(event).status == 404  # erased already


async def test_erasing_an_event_leaves_no_byte_of_it_in_the_sqlite_files(make_server: Any) -> None:
    server = make_server(open_rooms=False)
    shop = await write_workshop(server)
    kept = await write_kept_event(server)
    participant = shop.event.join("Bo")
    before = sqlite_bytes(server.data_dir)
    for secret in shop.secrets:
        assert secret in before, secret  # the test looks where the text really is

    async with board_client(shop.event, shop.room, participant.token, participant.subject) as present:
        watching = asyncio.create_task(watch_until_closed(present))
        reply = erase(shop.event)
        assert reply.status == 200, reply
        # Room 1, the plenary, the added room and Ada's drafts room held records.
        assert reply.body == {"event_id": shop.event.id, "erased": True, "rooms_erased": 4}
        assert await watching == WS_4404_ROOM_NOT_FOUND  # connected clients are closed

    stored = sqlite_bytes(server.data_dir)
    for secret in shop.secrets:
        assert secret not in stored, secret
    assert (server.data_dir / "candor.sqlite3-wal").stat().st_size == 0
    assert (server.data_dir / "events.sqlite3-wal").stat().st_size == 0
    assert KEPT.encode() in stored
    assert_gone(shop, shop.event.data["join_code"], participant.token)
    for room in (shop.room, shop.drafts):
        assert await close_code(shop.event.ws_url(room, shop.event.facilitator)) == WS_4404_ROOM_NOT_FOUND

    # The other event carries on, and so does the server after a restart.
    server.terminate()
    server.start()
    assert call(server, "GET", f"/api/events/{kept.id}", token=kept.facilitator).status == 200
    assert kept.board(kept.breakouts[0])["board"]["notes"]
    assert all(secret not in sqlite_bytes(server.data_dir) for secret in shop.secrets)


def test_only_the_events_facilitator_may_erase_it(make_server: Any) -> None:
    server = make_server(open_rooms=False)
    event = create_event(server, template="blank", rooms=1)
    other = create_event(server, template="blank", rooms=1)
    participant = event.join("Ada")
    assert erase(event, participant.token).status == 403
    assert erase(event, event.viewer).status == 403
    assert erase(event, other.facilitator).status == 403
    assert call(server, "DELETE", f"/api/events/{event.id}").status == 401
    assert call(server, "GET", f"/api/events/{event.id}", token=event.facilitator).status == 200


async def test_an_erased_events_rooms_do_not_come_back_as_open_rooms(make_server: Any) -> None:
    server = make_server()  # --open-rooms: any other name is a free-form document
    event = create_event(server, template="blank", rooms=1)
    assert erase(event).status == 200
    assert await close_code(server.ws_url(event.breakouts[0])) == WS_4404_ROOM_NOT_FOUND


async def test_a_token_of_an_erased_event_opens_no_later_event_given_the_same_id(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "events.sqlite3")
    log = SqliteLog(tmp_path / "candor.sqlite3")
    service = EventService(store, log, TokenSigner(b"k" * 32), open_rooms=False)
    try:
        event, _ = await service.create_event("Erased", "blank", 1)
        old = service.issue(event, Role.FACILITATOR, "facilitator")
        assert (await service.authenticate(old, event.id)).role is Role.FACILITATOR
        assert await store.erase_event(event.id)
        # Event ids are random: a later event may, however rarely, be given the same one.
        reborn = replace(event, created_ms=event.created_ms + 1, title="Someone else's")
        await store.create(reborn, [RoomRecord(f"{event.id}-plenary", event.id, "plenary", "Plenary", 0)])
        with pytest.raises(Unauthorized, match="erased"):
            await service.authenticate(old, event.id)
        assert (await service.authenticate(service.issue(reborn, Role.FACILITATOR, "f"), event.id)).event == event.id
    finally:
        await log.close()
        await store.close()
