"""Random and mutated frames and API bodies thrown at a real server: it answers with documented errors only.

After every hostile input the server is alive and a well-behaved client still
edits the same room.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from candor.errors import (
    WS_1002_PROTOCOL_ERROR,
    WS_1003_UNSUPPORTED_DATA,
    WS_1009_MESSAGE_TOO_BIG,
    WS_4422_INVALID_UPDATE,
)
from candor.protocol import encode_awareness, encode_sync_step1, encode_update

DOCUMENTED_CLOSES = {WS_1002_PROTOCOL_ERROR, WS_1003_UNSUPPORTED_DATA, WS_1009_MESSAGE_TOO_BIG, WS_4422_INVALID_UPDATE}
HTTP_DOCUMENTED = {200, 201, 400, 401, 403, 404, 413, 422, 429}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def shared_server(make_module_server: Any) -> Any:
    return make_module_server()


frames = st.one_of(
    st.binary(max_size=64),
    st.binary(max_size=40).map(encode_update),
    st.binary(max_size=40).map(encode_awareness),
    st.binary(max_size=8).map(encode_sync_step1),
    st.builds(
        lambda head, tail: head + tail,
        st.sampled_from([b"\x00\x00", b"\x00\x01", b"\x00\x02", b"\x01"]),
        st.binary(max_size=30),
    ),
)


async def send_and_watch(url: str, frame: bytes) -> int | None:
    """Send one frame; the close code the server answered with, or None if it kept the connection."""
    async with connect(url) as ws:
        await ws.send(frame)
        try:
            async with asyncio.timeout(0.3):
                while True:
                    await ws.recv()
        except TimeoutError:
            return None
        except ConnectionClosed:
            return ws.close_code
    return None


@FUZZ
@given(frame=frames)
def test_hostile_frames_get_documented_closes_and_the_room_lives_on(shared_server: Any, frame: bytes) -> None:
    url = shared_server.ws_url("fuzzed")
    code = asyncio.run(send_and_watch(url, frame))
    assert code is None or code in DOCUMENTED_CLOSES, (frame, code)


def test_after_the_fuzzing_the_room_still_works(shared_server: Any) -> None:
    from yclient import yclient

    async def edit() -> dict[str, Any]:
        async with yclient(shared_server.ws_url("fuzzed")) as client:
            await client.edit(after="fuzz")
            await client.wait_for(lambda: "after" in client.confirmed_notes())
            return client.confirmed_notes()

    assert asyncio.run(edit())["after"] == "fuzz"
    assert shared_server.get("/healthz")["status"] == "ok"


json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["title", "template", "rooms", "code", "agree", "name", "label", "x"]), children, max_size=4
        )
    ),
    max_leaves=10,
)


@FUZZ
@given(
    path=st.sampled_from(["/api/events", "/api/events/ev00000000/join", "/api/events/ev00000000/rooms"]),
    body=st.one_of(json_bodies.map(lambda b: json.dumps(b).encode()), st.binary(max_size=50)),
)
def test_hostile_api_bodies_get_documented_json_errors(shared_server: Any, path: str, body: bytes) -> None:
    request = urllib.request.Request(shared_server.http_url + path, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, payload = response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, json.loads(exc.read())
        assert set(payload) == {"error"} and payload["error"]["message"]
    assert status in HTTP_DOCUMENTED, (status, payload)
