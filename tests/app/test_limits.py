"""Limits: floods are throttled then closed, caps refuse clearly, a stalled reader cannot grow memory."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from typing import Any

from websockets.asyncio.client import connect

from candor.errors import (
    WS_1008_POLICY_VIOLATION,
    WS_1009_MESSAGE_TOO_BIG,
    WS_1013_TRY_AGAIN_LATER,
    WS_4403_FORBIDDEN,
)
from candor.protocol import encode_awareness
from scrape import metrics_of
from yclient import close_of, yclient


async def test_a_flooding_client_is_throttled_then_closed_while_others_carry_on(make_server: Any) -> None:
    server = make_server("--max-messages-per-s", "50")
    url = server.ws_url("flood")
    async with yclient(url) as calm, connect(url) as flooder:

        async def flood() -> None:
            payload = encode_awareness(b"\x00")  # an empty awareness update: cheap and valid
            for _ in range(5000):
                await flooder.send(payload)

        flooding = asyncio.create_task(flood())
        delays = []
        for i in range(10):
            started = time.monotonic()
            await calm.edit(**{f"n{i}": i})
            await calm.wait_for(lambda i=i: len(calm.received_updates) == i + 1)
            delays.append(time.monotonic() - started)
            await asyncio.sleep(0.2)
        code, reason = await close_of(flooder)
        flooding.cancel()
        assert code == WS_1008_POLICY_VIOLATION and "faster" in reason
        assert max(delays) < 0.5, delays
    # Slowed down, not just closed: 50 a second after 2 s of burst (100), for the 5 s before the close
    # (351 in all). Every message taken while throttled must be held back: one let through at once
    # (the reader caught up and the sender had not yet) starts the 5 s over, and more get in.
    taken = metrics_of(server)['candor_messages_in_total{kind="AwarenessUpdate"}']
    assert 100 < taken < 450, taken


async def test_connections_per_address_are_capped(make_server: Any) -> None:
    server = make_server("--max-connections-per-address", "2")
    url = server.ws_url("crowd")
    async with yclient(url), yclient(url), connect(url) as third:
        code, reason = await close_of(third)
    assert code == WS_1013_TRY_AGAIN_LATER and "too many connections" in reason


async def test_a_full_room_refuses_newcomers_with_a_reason(make_server: Any) -> None:
    server = make_server("--max-peers-per-room", "2")
    url = server.ws_url("small")
    async with yclient(url), yclient(url), connect(url) as third:
        code, reason = await close_of(third)
    assert code == WS_1013_TRY_AGAIN_LATER and "full" in reason


async def test_pages_from_other_origins_are_refused(make_server: Any) -> None:
    server = make_server("--allowed-origin", "https://workshop.example")
    url = server.ws_url("origins")
    async with connect(url, origin="https://elsewhere.example") as foreign:  # type: ignore[arg-type]
        code, _ = await close_of(foreign)
    assert code == WS_4403_FORBIDDEN
    same = f"http://127.0.0.1:{server.port}"
    for origin in (same, "https://workshop.example"):
        async with connect(url, origin=origin) as ws:  # type: ignore[arg-type]
            assert (await ws.recv())[:2] == b"\x00\x00"  # greeted with sync step 1


async def test_oversized_presence_is_refused(server: Any) -> None:
    async with connect(server.ws_url("presence")) as ws:
        await ws.send(encode_awareness(b"\x01" + b"x" * 70_000))
        code, _ = await close_of(ws)
    assert code == WS_1009_MESSAGE_TOO_BIG


async def test_idle_and_never_syncing_connections_are_closed(make_server: Any) -> None:
    server = make_server("--peer-idle-timeout", "0.5")
    async with yclient(server.ws_url("idle")) as idle:
        code, reason = await idle.closed_by_server(within_s=5)
    assert code == WS_1008_POLICY_VIOLATION and "idle" in reason

    server = make_server("--sync-timeout", "0.5")
    async with connect(server.ws_url("mute")) as mute:  # never sends its sync step 1
        code, reason = await close_of(mute, within_s=5)
    assert code == WS_1008_POLICY_VIOLATION and "no sync step 1" in reason


def stalled_connection(port: int, room: str) -> socket.socket:
    """A raw websocket that syncs and then never reads again, with a tiny receive buffer."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        f"GET /ws/{room} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += raw.recv(1)
    assert b" 101 " in response.split(b"\r\n")[0]
    step1 = b"\x00\x00\x01\x00"
    mask = os.urandom(4)
    raw.sendall(bytes([0x82, 0x80 | len(step1)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(step1)))
    return raw


async def test_a_stalled_reader_is_closed_instead_of_buffered(make_server: Any) -> None:
    server = make_server("--outbox-limit", "20", "--max-bytes-per-s", "100000000", "--max-board-bytes", "32000000")
    url = server.ws_url("stalled")
    async with yclient(url) as writer:
        stalled = stalled_connection(server.port, "stalled")
        try:
            for i in range(300):  # paced by its own echo, so the writer itself never falls behind
                await writer.edit(**{f"n{i}": "x" * 50_000})
                await writer.wait_for(lambda i=i: len(writer.received_updates) == i + 1)

            def peers() -> float:
                with urllib.request.urlopen(server.http_url + "/metrics", timeout=5) as response:
                    line = next(x for x in response.read().decode().splitlines() if x.startswith("candor_peers "))
                return float(line.split()[1])

            async with asyncio.timeout(10):
                while peers() != 1:  # the stalled one is gone; the writer stays
                    await asyncio.sleep(0.1)
        finally:
            stalled.close()


def test_http_bodies_over_the_limit_are_refused_unread(server: Any) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("POST", "/api/events")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(2 * 1024 * 1024))
        connection.endheaders()  # the body is never sent: the answer must not wait for it
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "body_too_large"
    finally:
        connection.close()


async def test_a_refusal_naming_a_long_origin_still_closes_with_its_code(make_server: Any) -> None:
    server = make_server()
    origin = "https://" + "very-long-sub-domain." * 12 + "example"  # the reason names it: past a close frame's room
    async with connect(server.ws_url("origins"), origin=origin) as foreign:  # type: ignore[arg-type]
        code, reason = await close_of(foreign)
    assert code == WS_4403_FORBIDDEN
    assert reason.startswith("pages from https://very-long-sub-domain.") and len(reason.encode()) <= 123
