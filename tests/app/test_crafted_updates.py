"""A crafted update never takes the server down: its sender is refused, every other room and peer carries on.

Each of these updates killed the server process (a segfault in pycrdt's native
code) or every later read of its board before updates were read within bounds.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from boards import board_client, create_event
from candor.errors import WS_4422_INVALID_UPDATE
from candor.ids import PeerId, RoomId
from candor.log.base import Entry
from candor.log.sqlite import SqliteLog
from candor.protocol import encode_update
from scrape import metrics_of
from yclient import yclient
from ycraft import any_item, item, map_chain, nested_array, update, values

STORY = "Embarrassed that I hadn't talked about it much before - revealed a lot, helped to revisit it."

CRAFTED = {
    "value-30000-deep": update(777, [any_item("notes", "n-deep", nested_array(30_000))]),
    "value-20000-deep-in-a-note": update(
        777,
        [
            item(7, b"\x01", parent="notes", key="n-deep"),
            item(8, values(nested_array(20_000)), parent=(777, 0), key="text"),
        ],
    ),
    "maps-60000-deep": map_chain(777, "notes", "n-deep", 60_000),
}


@pytest.fixture(scope="module")
def server(make_module_server: Any) -> Any:
    return make_module_server()


@pytest.mark.parametrize("crafted", list(CRAFTED), ids=list(CRAFTED))
async def test_a_crafted_update_to_a_board_is_refused_and_the_room_carries_on(server: Any, crafted: str) -> None:
    event = create_event(server, template="beyond-hero-stories", rooms=1)
    room = event.breakouts[0]
    ada, bo = event.join("Ada"), event.join("Bo")
    async with (
        board_client(event, room, ada.token, ada.subject, "Ada") as writer,
        board_client(event, room, bo.token, bo.subject, "Bo") as attacker,
    ):
        await attacker.y.ws.send(encode_update(CRAFTED[crafted]))
        code, reason = await attacker.y.closed_by_server()
        assert code == WS_4422_INVALID_UPDATE, (code, reason)
        note = await writer.add_note(STORY, "how-did-it-feel")
        await writer.wait_for_confirmed(lambda board: note in board["notes"])
    assert server.get("/healthz")["status"] == "ok"
    assert "n-deep" not in event.board(room)["board"]["notes"]


@pytest.mark.parametrize("crafted", list(CRAFTED), ids=list(CRAFTED))
async def test_a_crafted_update_to_a_free_form_room_is_refused_too(server: Any, crafted: str) -> None:
    url = server.ws_url(f"free-{crafted}")
    async with yclient(url) as calm, yclient(url) as attacker:
        await attacker.ws.send(encode_update(CRAFTED[crafted]))
        code, _ = await attacker.closed_by_server()
        assert code == WS_4422_INVALID_UPDATE
        await calm.edit(n1=STORY)
        await calm.wait_for(lambda: len(calm.received_updates) == 1)
    assert server.get("/healthz")["status"] == "ok"


async def test_a_free_form_room_nested_deep_across_many_updates_is_still_readable(server: Any) -> None:
    # One map inside the last, one update each: every update is shallow, the document is not.
    room = "free-deepening"
    async with yclient(server.ws_url(room)) as writer:
        for depth in range(1, 41):
            parent = "notes" if depth == 1 else None
            struct = item(7, b"\x01", parent=parent or (888, depth - 2), key="k")
            await writer.ws.send(encode_update(update(888, [struct], clock=depth - 1)))
        await writer.edit(last="written")
        await writer.wait_for(lambda: len(writer.received_updates) >= 41, within_s=10)
    status, body = server.get_error(f"/api/rooms/{room}/board")
    assert status == 422 and "nests shared types" in body["error"]["message"], body
    assert server.get("/healthz")["status"] == "ok"


def test_a_log_that_holds_a_deadly_record_loads_with_the_record_left_out(make_server: Any, tmp_path: Path) -> None:
    server = make_server(open_rooms=False)
    event = create_event(server, template="beyond-hero-stories", rooms=1)
    room = event.breakouts[0]
    server.stop()

    async def plant() -> None:  # as an earlier version of the server could have logged it
        log = SqliteLog(server.data_dir / "candor.sqlite3")
        try:
            await log.append(RoomId(room), [Entry(0, PeerId("p-old"), CRAFTED["value-20000-deep-in-a-note"])])
        finally:
            await log.close()

    asyncio.run(plant())
    server.start()
    board = event.board(room)["board"]
    assert "n-deep" not in board["notes"] and board["meta"]["template"] == "beyond-hero-stories"

    async def still_writable() -> None:
        ada = event.join("Ada")
        async with board_client(event, room, ada.token, ada.subject, "Ada") as writer:
            note = await writer.add_note(STORY, "how-did-it-feel")
            await writer.wait_for_confirmed(lambda b: note in b["notes"])

    asyncio.run(still_writable())
    assert metrics_of(server)["candor_refused_records_total"] >= 1
    assert "refused and left out" in server.log()
