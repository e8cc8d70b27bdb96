"""Presence is owned and bounded: a connection sets and removes only its own states, a few at most."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AsyncExitStack
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc

from candor.errors import WS_1008_POLICY_VIOLATION, PolicyViolation, ProtocolError, RoomClosing
from candor.protocol import AwarenessUpdate, decode_message, encode_awareness
from candor.rooms.presence import REMOTE, Entry, Presence, decode_entries, encode_entries
from yclient import YClient, yclient

ADA = {"user": {"name": "Ada", "role": "participant"}}
FACILITATOR = {"user": {"name": "Facilitator", "role": "facilitator"}}


def update(*entries: tuple[int, int, Any]) -> bytes:
    return encode_entries([Entry(client, clock, json.dumps(state)) for client, clock, state in entries])


def presence(per_owner: int = 2, per_room: int = 5) -> Presence:
    return Presence(Doc(), per_owner=per_owner, per_room=per_room)


def test_a_connection_sets_and_removes_its_own_state_only() -> None:
    room = presence()
    assert room.apply("ada", update((1, 1, ADA))) is not None
    # Bo names Ada's client "Facilitator", then removes it: neither reaches anyone.
    assert room.apply("bo", update((1, 5, FACILITATOR))) is None
    assert room.apply("bo", update((1, 6, None))) is None
    assert room.awareness.states[1] == ADA
    # A stock client echoes what it hears, own state and others' together: only its own goes on.
    relayed = room.apply("bo", update((1, 1, ADA), (2, 1, {"user": {"name": "Bo"}})))
    assert relayed is not None and [e.client for e in relayed.entries] == [2]
    assert decode_entries(relayed.payload) == relayed.entries
    assert room.apply("ada", update((1, 1, None))) is not None
    assert 1 not in room.awareness.states and room.owned_by("ada") == []


def test_claims_past_a_cap_are_refused_with_a_close_code() -> None:
    room = presence(per_owner=2, per_room=3)
    room.apply("ada", update((1, 1, ADA), (2, 1, ADA)))
    with pytest.raises(PolicyViolation, match="at most 2"):
        room.apply("ada", update((3, 1, ADA)))
    room.apply("bo", update((4, 1, ADA)))
    with pytest.raises(RoomClosing, match="3 presences"):
        room.apply("cy", update((5, 1, ADA)))
    assert sorted(room.awareness.states) == [1, 2, 4]
    assert room.apply(REMOTE, update((6, 1, ADA)), strict=False) is None  # another process's: dropped, no close


def test_a_connection_that_leaves_takes_its_states_and_the_memory_comes_back() -> None:
    room = presence(per_owner=1, per_room=10)
    for owner in range(2_000):  # one state each, then gone: the clocks pycrdt keeps per id are let go
        room.apply(owner, update((owner + 10, 1, ADA)))
        assert room.release(owner) is not None
    assert room.awareness.states == {}
    assert len(room.awareness.meta) <= 300


def test_malformed_presence_is_a_protocol_error() -> None:
    for payload in (b"\x05\x01", b"\x01\x01\x00\x05ab", update((1, 1, ADA)) + b"x", b"\xff\xff\xff\xff\x0f"):
        with pytest.raises(ProtocolError):
            presence().apply("ada", payload)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ada", "bo", "cy"]), st.integers(1, 6), st.integers(0, 5), st.booleans())))
def test_whatever_they_send_nobody_changes_a_state_they_do_not_own(
    sends: list[tuple[str, int, int, bool]],
) -> None:
    room = presence(per_owner=2, per_room=4)
    for owner, client, clock, remove in sends:
        before = {c: (room.awareness.states.get(c), room.owned_by(o)) for c in range(1, 7) for o in ("ada",)}
        owners = {c: next((o for o in ("ada", "bo", "cy") if c in room.owned_by(o)), None) for c in range(1, 7)}
        try:
            room.apply(owner, update((client, clock, None if remove else {"by": owner})))
        except (PolicyViolation, RoomClosing):
            continue
        for c in range(1, 7):
            if owners[c] not in (None, owner):
                assert room.awareness.states.get(c) == before[c][0] or c in room.owned_by(owners[c])
                state = room.awareness.states.get(c)
                assert state is None or state == {"by": owners[c]}
        assert all(len(room.owned_by(o)) <= 2 for o in ("ada", "bo", "cy"))
        assert len(room.awareness.states) <= 4


@pytest.fixture(scope="module")
def server(make_module_server: Any) -> Any:
    return make_module_server()


async def test_nobody_renames_or_removes_someone_elses_presence(server: Any) -> None:
    url = server.ws_url("presence-owned")
    async with yclient(url) as ada, yclient(url) as bo, yclient(url) as watcher:
        await ada.send_presence(ADA)
        await watcher.wait_for(lambda: ada.doc.client_id in watcher.presence_of_others())
        forged = update((ada.doc.client_id, 99, FACILITATOR))
        await bo.ws.send(encode_awareness(forged))
        await bo.ws.send(encode_awareness(update((ada.doc.client_id, 100, None))))
        await bo.send_presence({"user": {"name": "Bo"}})
        await watcher.wait_for(lambda: bo.doc.client_id in watcher.presence_of_others())
        assert watcher.presence_of_others()[ada.doc.client_id] == ADA


async def test_a_presence_flood_is_closed_and_the_room_carries_on(server: Any) -> None:
    url = server.ws_url("presence-flood")
    async with yclient(url) as calm, yclient(url) as watcher, AsyncExitStack() as stack:
        await calm.send_presence(ADA)
        flooders = []
        for _ in range(3):  # each within the frame and rate limits, each with 500 new client ids
            flooder = await stack.enter_async_context(yclient(url))
            flooders.append(flooder)
            many = update(*((10_000 + n, 1, {"n": n}) for n in range(500)))
            await flooder.ws.send(encode_awareness(many))
        for flooder in flooders:
            code, reason = await flooder.closed_by_server()
            assert code == WS_1008_POLICY_VIOLATION and "at most" in reason
        await calm.edit(n1="Felt safe, but there are not very many safe spaces to do this.")
        await watcher.wait_for(lambda: len(watcher.received_updates) == 1)
        assert set(watcher.presence_of_others()) == {calm.doc.client_id}
    assert "Traceback" not in server.log()


def test_a_frame_refused_for_its_claims_leaves_nothing_claimed() -> None:
    room = presence(per_owner=2, per_room=10)
    with pytest.raises(PolicyViolation):
        room.apply("ada", update(*((n, 1, ADA) for n in range(1, 6))))
    assert room.owned_by("ada") == [] and room.awareness.states == {}
    assert room.release("ada") is None


def presence_frames(client: YClient) -> list[bytes]:
    return [f for f in client.frames if isinstance(decode_message(f), AwarenessUpdate)]


async def test_a_presence_storm_reaches_each_peer_gathered_and_whole(make_server: Any) -> None:
    # 24 people move their cursors 6 times each, 144 changes within a few tenths of a second:
    # each peer gets them gathered, a few frames a second, and ends with everyone's last state.
    server = make_server("--presence-interval", "0.25")
    url = server.ws_url("presence-storm")
    async with AsyncExitStack() as stack:
        watcher = await stack.enter_async_context(yclient(url))
        people = [await stack.enter_async_context(yclient(url)) for _ in range(24)]
        await asyncio.sleep(0.6)  # the joins' own frames are over
        before = len(presence_frames(watcher))
        started = time.monotonic()
        for move in range(6):
            await asyncio.gather(*(p.send_presence({"cursor": [n, move]}) for n, p in enumerate(people)))
            await asyncio.sleep(0.02)
        last = {p.doc.client_id: {"cursor": [n, 5]} for n, p in enumerate(people)}
        await watcher.wait_for(lambda: watcher.presence_of_others() == last)
        took = time.monotonic() - started
        frames = len(presence_frames(watcher)) - before
        assert frames <= took / 0.25 + 2, f"{frames} presence frames in {took:.2f} s"


async def test_a_lone_change_goes_at_once_and_a_leaver_is_removed(make_server: Any) -> None:
    server = make_server("--presence-interval", "2")
    url = server.ws_url("presence-lone")
    async with yclient(url) as watcher, yclient(url) as ada:
        await asyncio.sleep(2.2)  # quiet: whatever the joins sent has gone
        started = time.monotonic()
        await ada.send_presence(ADA)
        await watcher.wait_for(lambda: watcher.presence_of_others() == {ada.doc.client_id: ADA})
        assert time.monotonic() - started < 1.0, "the first change after a quiet moment waits for nothing"
        await ada.send_presence({"user": {"name": "Ada", "cursor": [1, 2]}})  # gathered: within the interval
        await watcher.wait_for(lambda: "cursor" in watcher.presence_of_others()[ada.doc.client_id]["user"], 4)
        assert time.monotonic() - started >= 1.5, "a second change within the interval waits for it"
        ada_id = ada.doc.client_id
        await ada.close()
        await watcher.wait_for(lambda: ada_id not in watcher.presence_of_others(), 5)
