"""Real pycrdt clients over real websockets: sync, broadcast order, awareness, lazy loading."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pycrdt import Doc, Text
from websockets.asyncio.client import connect

from candor.protocol import (
    AwarenessUpdate,
    SyncUpdate,
    decode_message,
    encode_query_awareness,
    encode_sync_step1,
    encode_update,
)
from yclient import YClient, yclient


async def test_two_clients_converge_and_the_sender_gets_its_echo(server: Any) -> None:
    url = server.ws_url("converge")
    async with yclient(url) as a, yclient(url) as b:
        await a.edit(n1="from a")
        await b.edit(n2="from b")
        expected = {"n1": "from a", "n2": "from b"}
        await a.wait_for(lambda: a.confirmed_notes() == expected)
        await b.wait_for(lambda: b.confirmed_notes() == expected)
        assert len(a.received_updates) == 2  # its own update comes back too, in log order


async def test_updates_of_every_frame_length_arrive_whole(server: Any) -> None:
    # The server frames broadcasts itself (candor.http.direct): payloads under 126 bytes,
    # up to 64 KiB, and over it each carry their length differently.
    url = server.ws_url("lengths")
    async with yclient(url) as a, yclient(url) as b:
        sizes = {"short": 10, "medium": 5_000, "long": 70_000}
        for key, size in sizes.items():
            await a.edit(**{key: "x" * size})
        await b.wait_for(lambda: {key: len(value) for key, value in b.confirmed_notes().items()} == sizes)


async def test_late_joiner_receives_the_full_state(server: Any) -> None:
    url = server.ws_url("late")
    async with yclient(url) as a:
        for i in range(20):
            await a.edit(**{f"n{i}": i})
        await a.wait_for(lambda: len(a.received_updates) == 20)
    async with yclient(url) as late:
        assert late.notes_json() == {f"n{i}": i for i in range(20)}


async def test_updates_arrive_in_log_order_while_others_join(server: Any) -> None:
    url = server.ws_url("ordering")
    async with yclient(url) as writer:
        joiners: list[YClient] = []
        contexts = []
        for i in range(30):
            await writer.edit(**{f"k{i}": i})
            if i % 3 == 0:
                ctx = yclient(url)
                contexts.append(ctx)
                joiners.append(await ctx.__aenter__())
        expected = {f"k{i}": i for i in range(30)}
        for joiner in joiners:
            await joiner.wait_for(lambda j=joiner: j.confirmed_notes() == expected)
        for ctx in contexts:
            await ctx.__aexit__(None, None, None)
    board = server.get("/api/rooms/ordering/board")
    assert board["seq"] == 30
    assert board["board"]["notes"] == expected


async def test_many_clients_joining_a_cold_room_load_it_once(server: Any) -> None:
    url = server.ws_url("stampede")
    async with yclient(url) as first:
        await first.edit(seed="x")
        await first.wait_for(lambda: len(first.received_updates) == 1)

    async def join() -> dict[str, Any]:
        async with yclient(url) as c:
            return c.notes_json()

    server.terminate()  # a restart makes the room cold
    server.start()
    loads_before = server.get("/healthz")["room_loads"]
    results = await asyncio.gather(*(join() for _ in range(25)))
    assert all(r == {"seed": "x"} for r in results)
    assert server.get("/healthz")["room_loads"] == loads_before + 1


async def test_awareness_is_relayed_given_to_newcomers_and_removed_on_disconnect(server: Any) -> None:
    url = server.ws_url("presence")
    async with yclient(url) as a, yclient(url) as b:
        await a.send_presence({"name": "Ada", "cursor": [1, 2]})
        await b.wait_for(lambda: a.doc.client_id in b.presence_of_others())
        async with yclient(url) as newcomer:
            await newcomer.wait_for(lambda: a.doc.client_id in newcomer.presence_of_others())
            assert newcomer.presence_of_others()[a.doc.client_id] == {"name": "Ada", "cursor": [1, 2]}
        # Drop A without a goodbye: B must still see A's presence vanish.
        a.ws.transport.abort()
        await b.wait_for(lambda: a.doc.client_id not in b.presence_of_others())


async def test_query_awareness_returns_known_states(server: Any) -> None:
    url = server.ws_url("query")
    async with yclient(url) as a:
        await a.send_presence({"name": "Bo"})
        async with connect(url) as raw:
            await raw.send(encode_query_awareness())
            async with asyncio.timeout(5):
                while True:
                    message = decode_message(await raw.recv())  # type: ignore[arg-type]
                    if isinstance(message, AwarenessUpdate):
                        break


async def test_presence_is_never_logged(server: Any) -> None:
    url = server.ws_url("nolog")
    async with yclient(url) as a, yclient(url) as b:
        await a.edit(n="x")
        await a.wait_for(lambda: len(a.received_updates) == 1)
        for i in range(5):
            await a.send_presence({"i": i})
        await b.wait_for(lambda: b.presence_of_others().get(a.doc.client_id) == {"i": 4})
    assert server.get("/api/rooms/nolog/board")["seq"] == 1


async def test_a_client_that_never_syncs_gets_no_broadcast(server: Any) -> None:
    url = server.ws_url("unsynced")
    async with connect(url) as raw, yclient(url) as writer:
        # raw never sends sync step 1: it is not in the broadcast set.
        await writer.edit(n="x")
        await writer.wait_for(lambda: len(writer.received_updates) == 1)
        await raw.send(encode_update(b"\x00\x00"))
        frames = []
        try:
            async with asyncio.timeout(0.5):
                while True:
                    frames.append(await raw.recv())
        except TimeoutError:
            pass
        assert all(f[0:2] != b"\x00\x02" for f in frames)  # step 1 greeting only, no updates


def chained_updates(count: int) -> list[bytes]:
    """``count`` updates as a Yjs client sends them, each building on the one before."""
    doc: Doc[Any] = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    doc["text"] = text = Text()
    for i in range(count):
        text += f"{i} "
    return updates


async def echoes_of(url: str, updates: list[bytes]) -> list[bytes]:
    """Send ``updates`` on a new connection; the updates it gets back, in the order they came."""
    echoes: list[bytes] = []
    async with connect(url) as sender:
        await sender.send(encode_sync_step1(b"\x00"))
        for update in updates:
            await sender.send(encode_update(update))
        async with asyncio.timeout(15):
            while len(echoes) < len(updates):
                message = decode_message(await sender.recv())
                if isinstance(message, SyncUpdate):
                    echoes.append(message.update)
    return echoes


async def test_a_throttled_burst_keeps_its_order(make_server: Any) -> None:
    # 20 messages a second with 2 s of burst: the first 40 pass at once, each later one waits
    # its turn, with the ones read after it held behind it.
    server = make_server("--max-messages-per-s", "20")
    updates = chained_updates(70)
    started = time.monotonic()
    assert await echoes_of(server.ws_url("throttled"), updates) == updates
    assert time.monotonic() - started > 1.0  # slowed down: ~30 over the burst at 20 a second


async def test_newcomers_at_the_same_moment_share_an_answer_that_holds_every_deletion(server: Any) -> None:
    # Answers are shared between peers who join at the same document state. A deletion changes
    # the document but not its state vector: a newcomer after it must not get the note back.
    url = server.ws_url("shared-answers")
    async with yclient(url) as writer:
        await writer.edit(n1="Agree on the ground rules first", n2="Felt lonely afterwards")
        await writer.wait_for(lambda: len(writer.received_updates) == 1)
        async with yclient(url) as early_one, yclient(url) as early_two:
            assert early_one.confirmed_notes() == early_two.confirmed_notes() == writer.confirmed_notes()

            def delete(_: Doc[Any]) -> None:
                del writer.notes["n2"]

            await writer.transact(delete)
            await writer.wait_for(lambda: len(writer.received_updates) == 2)
            async with yclient(url) as late:
                assert late.confirmed_notes() == {"n1": "Agree on the ground rules first"}
