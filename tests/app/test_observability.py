"""/metrics in Prometheus format, and JSON log lines that carry ids, never note text or tokens."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from boards import board_client, create_event
from candor.protocol import encode_update
from scrape import metrics_of
from yclient import yclient

SECRET_TEXT = "a sentence nobody may find in a log"


async def test_metrics_count_rooms_peers_messages_and_rejections(make_server: Any, io_mode: str) -> None:
    server = make_server("--snapshot-every", "3")
    url = server.ws_url("metered")
    async with yclient(url) as a, yclient(url) as b:
        for i in range(4):
            await a.edit(**{f"n{i}": i})
        await b.wait_for(lambda: len(b.received_updates) == 4)
        await b.ws.send(encode_update(b"\x05\x01\x02"))  # undecodable: refused
        await b.closed_by_server()
        async with asyncio.timeout(5):  # the server forgets the closed peer right after closing it
            while (values := metrics_of(server))["candor_peers"] != 1:
                await asyncio.sleep(0.05)
        assert values["candor_rooms_loaded"] == 1
    # Both clients' messages went without ASGI, both ways; or, with --direct-io off, neither's.
    assert values["candor_direct_connections_total"] == (2 if io_mode == "on" else 0)
    assert values['candor_messages_in_total{kind="SyncUpdate"}'] >= 4
    assert values["candor_messages_out_total"] >= 8  # each update to both peers
    assert values['candor_rejected_updates_total{reason="invalid_update"}'] == 1
    assert values["candor_log_append_seconds_count"] >= 1
    assert values["candor_log_records_total"] == 4
    assert values["candor_snapshots_total"] >= 1
    assert values["process_resident_memory_bytes"] > 0  # the process as a whole


async def test_log_lines_are_json_with_ids_and_no_text_or_token(make_server: Any) -> None:
    server = make_server("--log-level", "info", open_rooms=False)  # rejections are logged at info
    event = create_event(server, template="blank", rooms=1)
    ada = event.join("Ada")
    room = event.breakouts[0]
    async with board_client(event, room, ada.token, ada.subject, "Ada") as writer:
        await writer.add_note(SECRET_TEXT, "notes")
        await writer.add_note(SECRET_TEXT, "nowhere")  # unknown section: refused and logged
        await writer.y.closed_by_server()
    server.terminate()
    lines = [line for line in server.log().splitlines() if line.startswith("{")]
    assert lines, server.log()
    entries = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    rejection = next(e for e in entries if e.get("reason") == "invalid_board")
    assert rejection["room"] == room and isinstance(rejection["seq"], int)
    log_text = server.log()
    assert SECRET_TEXT not in log_text
    assert ada.token not in log_text and event.facilitator not in log_text
