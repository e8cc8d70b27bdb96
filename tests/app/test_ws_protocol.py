"""Candor's websocket protocol class under a real uvicorn: an ASGI server for any app, direct I/O for Candor's."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
from collections.abc import Callable
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from candor.http.direct import DIRECT_IO, DirectSocket
from candor.http.ws_protocol import DirectWebSocketProtocol
from inprocess import uvicorn_serving

App = Callable[[dict[str, Any], Any, Any], Any]


def served(app: App, **options: Any) -> contextlib.AbstractAsyncContextManager[tuple[str, uvicorn.Server]]:
    """``app`` behind a real uvicorn in this process, its websockets served by Candor's class."""
    return uvicorn_serving(app, ws=DirectWebSocketProtocol, lifespan="off", **options)


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A plain ASGI websocket application: echoes, closes when told, refuses /refused."""
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    if scope["path"] == "/refused":
        await send({"type": "websocket.close"})
        return
    await send({"type": "websocket.accept", "subprotocol": (scope["subprotocols"] or [None])[0]})
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        if event.get("text") == "goodbye":
            await send({"type": "websocket.close", "code": 4321, "reason": "as you wish"})
            return
        key = "bytes" if event.get("bytes") is not None else "text"
        await send({"type": "websocket.send", key: event[key]})


async def test_a_plain_asgi_application_is_served_as_by_any_server() -> None:
    async with served(echo) as (url, _), connect(url + "/echo?x=1", subprotocols=["y-websocket"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "y-websocket"
        await ws.send("Wie fühlten wir uns?")
        assert await ws.recv() == "Wie fühlten wir uns?"
        await ws.send(b"\x00\x01\x02")
        assert await ws.recv() == b"\x00\x01\x02"
        await ws.send([b"a failure ", b"story, ", b"in fragments"])
        assert await ws.recv() == b"a failure story, in fragments"
        await ws.send("goodbye")
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert (ws.close_code, ws.close_reason) == (4321, "as you wish")


async def test_a_refusal_before_accepting_is_answered_403() -> None:
    async with served(echo) as (url, _):
        with pytest.raises(InvalidStatus) as refused:
            await connect(url + "/refused")
    assert refused.value.response.status_code == 403


async def test_messages_wait_in_order_while_the_application_is_busy() -> None:
    received: list[bytes] = []

    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await asyncio.sleep(0.5)  # the client sends everything meanwhile; at most ws_max_queue are read ahead
        while (event := await receive())["type"] == "websocket.receive":
            received.append(event["bytes"])
            if len(received) == 200:
                await send({"type": "websocket.send", "bytes": b"all there"})

    async with served(slow, ws_max_queue=4) as (url, _), connect(url) as ws:
        for n in range(200):
            await ws.send(n.to_bytes(2, "big"))
        assert await asyncio.wait_for(ws.recv(), 10) == b"all there"
    assert received == [n.to_bytes(2, "big") for n in range(200)]


async def test_a_direct_consumer_takes_messages_in_order_across_its_pauses() -> None:
    taken: list[bytes | str] = []
    taken_while_paused: list[bytes | str] = []
    codes: list[int] = []

    async def direct(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        socket: DirectSocket = scope["extensions"][DIRECT_IO]
        loop = asyncio.get_running_loop()
        paused = False

        def resume() -> None:
            nonlocal paused
            paused = False
            socket.resume_reading()

        def take(data: bytes | str) -> None:
            nonlocal paused
            (taken_while_paused if paused else taken).append(data)
            if len(taken) % 10 == 0:  # a throttled sender: nothing taken for a while
                paused = True
                socket.pause_reading()
                loop.call_later(0.05, resume)
            assert socket.send_now(b"took " + (data if isinstance(data, bytes) else data.encode()))

        codes.append(await socket.deliver_to(take))

    async with served(direct) as (url, _), connect(url) as ws:
        for n in range(100):
            await ws.send(str(n))
        echoes = [await asyncio.wait_for(ws.recv(), 5) for _ in range(100)]
    assert taken == [str(n) for n in range(100)] and not taken_while_paused
    assert echoes == [f"took {n}".encode() for n in range(100)]
    async with asyncio.timeout(5):
        while not codes:
            await asyncio.sleep(0.01)
    assert codes == [1000]  # the client's close code


def raw_upgrade(port: int, path: bytes = b"/") -> socket.socket:
    """A websocket opened by hand, to send what a well-behaved client never would."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16))
    raw.sendall(
        b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += raw.recv(1)
    assert b" 101 " in response.split(b"\r\n")[0], response
    return raw


def masked(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    assert len(payload) < 126
    return (
        struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload))
        + mask
        + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    )


def read_until_closed(raw: socket.socket) -> bytes:
    received = b""
    while chunk := raw.recv(4096):
        received += chunk
    return received


async def test_text_that_is_not_utf8_is_closed_with_1007() -> None:
    async with served(echo) as (url, _):
        raw = await asyncio.to_thread(raw_upgrade, int(url.rsplit(":", 1)[1]))
        with raw:
            raw.sendall(masked(0x1, b"\xff\xfe not text"))
            received = await asyncio.to_thread(read_until_closed, raw)
    assert received[:1] == b"\x88" and struct.unpack("!H", received[2:4]) == (1007,)


async def test_a_client_that_stops_answering_pings_is_dropped() -> None:
    async with served(echo, ws_ping_interval=0.1, ws_ping_timeout=0.3) as (url, _):
        raw = await asyncio.to_thread(raw_upgrade, int(url.rsplit(":", 1)[1]))
        with raw:
            received = await asyncio.wait_for(asyncio.to_thread(read_until_closed, raw), 5)
    assert received[:1] == b"\x89"  # pinged, never answered
    assert b"\x88" in received  # then closed (1011), and the socket with it


async def test_stopping_the_server_closes_open_websockets_with_1012() -> None:
    async with served(echo) as (url, server), connect(url) as ws:
        await ws.send("still here")
        assert await ws.recv() == "still here"
        server.should_exit = True
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1012
