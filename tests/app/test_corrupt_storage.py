"""A room whose stored record is corrupt is refused with 1011 (a storage failure, not the client's); others carry on."""

from __future__ import annotations

import sqlite3
from typing import Any

from websockets.asyncio.client import connect

from candor.errors import WS_1011_INTERNAL_ERROR
from yclient import close_of, yclient

HEALTHY = "healthy-room"
DAMAGED = "damaged-room"


async def test_a_room_with_a_corrupt_record_closes_with_1011_and_every_other_room_is_served(make_server: Any) -> None:
    server = make_server()
    async with yclient(server.ws_url(HEALTHY)) as reader, yclient(server.ws_url(HEALTHY)) as writer:
        await writer.edit(before="written before the damage")
        await reader.wait_for(lambda: len(reader.received_updates) == 1)
    server.stop()
    # Bytes that are no record, where the damaged room's first record belongs (a damaged disk, a foreign writer).
    with sqlite3.connect(server.data_dir / "candor.sqlite3") as conn:
        conn.execute("INSERT INTO log (room, seq, time_ms, record) VALUES (?, 1, 0, ?)", (DAMAGED, b"\xc1 garbage"))
    conn.close()
    server.start()

    for _ in range(2):  # refused each time it is asked for, never left half loaded
        async with connect(server.ws_url(DAMAGED)) as damaged:
            code, reason = await close_of(damaged)
        assert code == WS_1011_INTERNAL_ERROR, (code, reason)
        assert "not valid msgpack" in reason

    async with yclient(server.ws_url(HEALTHY)) as reader, yclient(server.ws_url(HEALTHY)) as writer:
        assert reader.notes.get("before") == "written before the damage"
        await writer.edit(after="written after the damage")
        await reader.wait_for(lambda: reader.notes.get("after") == "written after the damage")
    assert server.get("/healthz")["status"] == "ok"
