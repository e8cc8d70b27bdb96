"""Bad input closes only the offender, with a named code and a reason; the room carries on."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from candor.errors import (
    WS_1002_PROTOCOL_ERROR,
    WS_1003_UNSUPPORTED_DATA,
    WS_1009_MESSAGE_TOO_BIG,
    WS_4400_BAD_ROOM,
    WS_4422_INVALID_UPDATE,
)
from candor.protocol import encode_update
from yclient import yclient


async def close_code_after(url: str, frame: bytes | str) -> tuple[int, str]:
    async with connect(url, max_size=None) as ws:
        await ws.send(frame)
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
        assert ws.close_code is not None
        return ws.close_code, ws.close_reason or ""


BAD_FRAMES = [
    (b"\x80", WS_1002_PROTOCOL_ERROR),
    (b"\x00\x02\x81", WS_1002_PROTOCOL_ERROR),
    (b"\x00\x02\x09abc", WS_1002_PROTOCOL_ERROR),
    (b"\x00\x02\x01ab", WS_1002_PROTOCOL_ERROR),
    (b"\x01\x05\x01\x05\x01\x01{", WS_1002_PROTOCOL_ERROR),
    (b"\x09\x00", WS_1003_UNSUPPORTED_DATA),
    ("a text frame", WS_1003_UNSUPPORTED_DATA),
    (encode_update(b"\x05\x01\x02\x03"), WS_4422_INVALID_UPDATE),
]


@pytest.mark.parametrize(
    ("frame", "code"),
    BAD_FRAMES,
    ids=[
        "truncated-type",
        "truncated-length",
        "short-payload",
        "trailing-bytes",
        "bad-awareness",
        "unknown-type",
        "text-frame",
        "undecodable-update",
    ],
)
async def test_offender_is_closed_and_the_room_carries_on(server: Any, frame: bytes | str, code: int) -> None:
    url = server.ws_url("shared")
    async with yclient(url) as good:
        await good.edit(before="ok")
        got_code, reason = await close_code_after(url, frame)
        assert got_code == code
        assert reason  # a person can read why
        await good.edit(after="still ok")
        await good.wait_for(lambda: good.confirmed_notes() == {"before": "ok", "after": "still ok"})
    assert server.get("/api/rooms/shared/board")["seq"] == 2  # the bad update left no trace


async def test_oversized_message_is_closed_with_1009(make_server: Any) -> None:
    server = make_server("--max-message-bytes", "4096")
    url = server.ws_url("big")
    async with yclient(url) as good:
        code, _ = await close_code_after(url, encode_update(b"\x00" * 10_000))
        assert code == WS_1009_MESSAGE_TOO_BIG
        await good.edit(k="v")
        await good.wait_for(lambda: good.confirmed_notes() == {"k": "v"})


@pytest.mark.parametrize("name", ["-starts-with-dash", "has space", "x" * 129, "semi;colon"], ids=str.__len__)
async def test_invalid_room_name_is_closed_with_4400(server: Any, name: str) -> None:
    url = f"ws://127.0.0.1:{server.port}/ws/{name.replace(' ', '%20')}"
    async with connect(url) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == WS_4400_BAD_ROOM


async def test_client_vanishing_mid_handshake_does_not_hurt_the_server(server: Any) -> None:
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server.port)) as raw:
            raw.sendall(
                b"GET /ws/handshake HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            )  # the request never ends
    async with yclient(server.ws_url("handshake")) as c:
        await c.edit(k="v")
        await c.wait_for(lambda: c.confirmed_notes() == {"k": "v"})
    assert server.get("/healthz")["status"] == "ok"


async def test_client_leaving_before_sync_does_not_hurt_the_room(server: Any) -> None:
    url = server.ws_url("leaver")
    for _ in range(10):
        ws = await connect(url)
        ws.transport.abort()
    async with yclient(url) as c:
        await c.edit(k="v")
        await c.wait_for(lambda: c.confirmed_notes() == {"k": "v"})
