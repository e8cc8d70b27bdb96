"""A connection's inbox: every message once and in order, none while its consumer pauses, a bounded read-ahead."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from candor.http.ws_inbox import Inbox

steps = st.lists(st.sampled_from(["put", "put", "put", "pause", "resume"]), max_size=80)


def message(n: int) -> bytes:
    return b"\x00\x01" + n.to_bytes(2, "big")  # a y-websocket update's head, then its number


@given(steps=steps, max_queue=st.integers(1, 8))
def test_a_direct_consumer_takes_each_message_once_in_order_and_none_while_paused(
    steps: list[str], max_queue: int
) -> None:
    async def scenario() -> None:
        reading: list[bool] = [True]  # the socket's state, as the inbox last set it
        inbox = Inbox(max_queue, reading.append)
        taken: list[bytes | str] = []
        taken_while_paused: list[bytes | str] = []
        paused = False

        def take(data: bytes | str) -> None:
            (taken_while_paused if paused else taken).append(data)

        consumer = asyncio.create_task(inbox.deliver_to(take))
        await asyncio.sleep(0)
        sent = 0
        for step in steps:
            if step == "put":
                inbox.put(message(sent))
                sent += 1
            elif step == "pause":
                paused = True
                inbox.pause()
            else:
                paused = False
                inbox.resume()
            waiting = sent - len(taken)
            assert reading[-1] == (waiting < max_queue), (step, waiting)
        paused = False
        inbox.resume()
        inbox.end(1000, "")
        assert await consumer == 1000
        assert taken == [message(n) for n in range(sent)] and not taken_while_paused
        assert reading[-1] is True

    asyncio.run(scenario())


@given(steps=st.lists(st.sampled_from(["put", "get"]), max_size=80), max_queue=st.integers(1, 8), drop=st.booleans())
def test_an_awaiting_reader_gets_each_message_once_in_order_then_the_end(
    steps: list[str], max_queue: int, drop: bool
) -> None:
    async def scenario() -> None:
        reading: list[bool] = [True]
        inbox = Inbox(max_queue, reading.append)
        got: list[bytes | str | None] = []
        sent = 0
        for step in steps:
            if step == "put":
                inbox.put(message(sent))
                sent += 1
            elif sent > len(got):
                got.append(await inbox.get())
            assert reading[-1] == (sent - len(got) < max_queue)
        assert got == [message(n) for n in range(len(got))]
        inbox.end(1001, "going away", drop=drop)
        inbox.put(message(sent))  # past the end: discarded
        rest = []
        while (last := await inbox.get()) is not None:
            rest.append(last)
        assert rest == ([] if drop else [message(n) for n in range(len(got), sent)])
        assert inbox.ended == (1001, "going away") and reading[-1] is True

    asyncio.run(scenario())


def test_a_reader_waiting_for_a_message_learns_the_end() -> None:
    async def scenario() -> None:
        inbox = Inbox(4, lambda on: None)
        waiting = asyncio.create_task(inbox.get())
        await asyncio.sleep(0)
        inbox.end(1006, "")
        assert await asyncio.wait_for(waiting, 1) is None

    asyncio.run(scenario())
