"""--retain-days: events idle that long are erased by the server itself, and everyone is told beforehand."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from boards import board_client, call, create_event

# Three seconds, in days: long enough to write, short enough to wait for.
RETAIN_DAYS = str(3 / 86400)
IDLE = "Reminder that it needs to be revisited, not brushed under the carpet."
BUSY = "An open environment without people needing to immediately give advice in response."


def sqlite_bytes(server: Any) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(server.data_dir.iterdir()) if ".sqlite3" in p.name)


async def test_an_idle_event_is_erased_after_its_retention_and_a_busy_one_is_kept(make_server: Any) -> None:
    server = make_server("--retain-days", RETAIN_DAYS, open_rooms=False)
    idle = create_event(server, title="Idle event", template="blank", rooms=1)
    busy = create_event(server, title="Busy event", template="blank", rooms=1)
    async with board_client(idle, idle.breakouts[0], idle.facilitator, "facilitator") as host:
        await host.add_note(IDLE, "notes")
        await host.wait_for_confirmed(lambda board: len(board["notes"]) == 1)
    assert IDLE.encode() in sqlite_bytes(server)
    async with board_client(busy, busy.breakouts[0], busy.facilitator, "facilitator") as host:
        deadline = time.monotonic() + 7
        while time.monotonic() < deadline:  # a note a second: never idle for three
            await host.add_note(BUSY, "notes")
            await asyncio.sleep(1)
            if call(server, "GET", f"/api/events/{idle.id}", token=idle.facilitator).status == 404:
                break
        assert call(server, "GET", f"/api/events/{idle.id}", token=idle.facilitator).status == 404
        assert call(server, "GET", f"/api/events/{busy.id}", token=busy.facilitator).status == 200
    assert IDLE.encode() not in sqlite_bytes(server)
    assert BUSY.encode() in sqlite_bytes(server)


def test_the_retention_is_announced_and_is_part_of_the_agreement(make_server: Any) -> None:
    server = make_server("--retain-days", "30", open_rooms=False)
    info = server.get("/api/info")
    assert info["retain_days"] == 30
    assert "erased from the server 30 days after the event's last activity" in info["retention"]
    event = create_event(server, template="beyond-hero-stories")
    shown = call(server, "GET", f"/api/events/{event.id}/join?code={event.data['join_code']}").body
    assert shown["retention"] == info["retention"]
    assert shown["agreement"]["items"][-1] == info["retention"]
    assert "Not to share identifiable details" in shown["agreement"]["items"][0]  # the template's own, first
    blank = create_event(server, template="blank")
    shown = call(server, "GET", f"/api/join/{blank.data['join_code']}").body
    assert shown["agreement"] is None and shown["retention"] == info["retention"]
