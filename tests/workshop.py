"""A scripted workshop over real websockets for the export and timeline tests: who wrote what, with which consent.

Two breakout rooms of a beyond-hero-stories event. In room 1, Ada and Ben
sign some notes, Cy never does; notes are scoped room, event and public; the
facilitator clusters and opens voting; Cy deletes a note and Ada withdraws
one after the midpoint. In room 2, Dee adds an idea to a cluster whose label
matches room 1's up to case and spacing.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from boards import BoardClient, Event, board_client, create_event

IDEAS = "practical-ideas"
PROBLEM = "define-the-problem"


# key, writer, text, section, signed, scope
ROOM1_NOTES = [
    ("A1", "Ada", "Have a 'failure session' at each team meeting", IDEAS, True, "event"),
    ("A2", "Ada", "Mainly positive examples of impact are shared", PROBLEM, False, "public"),
    ("A3", "Ada", "The project my manager buried", PROBLEM, True, "event"),  # withdrawn later
    ("B1", "Ben", "Get funders to request a section on what went wrong", IDEAS, False, "room"),
    ("B2", "Ben", "Reframe failure as learning", IDEAS, True, "public"),
    ("C1", "Cy", "Find allies and buddies to create safe spaces", IDEAS, False, "event"),
    ("C2", "Cy", "We don't talk about failure and learn from it", PROBLEM, False, "event"),  # deleted later
]
ROOM2_NOTES = [
    ("D1", "Dee", "Hold world cafe sessions about failure", IDEAS, True, "event"),
    ("D2", "Dee", "An idea for this room only", IDEAS, False, "room"),
    ("D3", "Dee", "Push for a <em>learning</em> framing & start", IDEAS, False, "public"),
]


@dataclass(frozen=True)
class Note:
    """What the script wrote, to check every export against."""

    id: str
    room: str
    text: str
    author: str  # the writer's pseudonym (must never appear in an export)
    name: str | None  # the name they joined with
    signed: bool
    scope: str


def fetch(server: Any, path: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET ``path``: status, headers (lower-case names) and the raw body; never raises on 4xx."""
    request = urllib.request.Request(server.http_url + path)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@dataclass
class Workshop:
    event: Event
    room1: str
    room2: str
    notes: dict[str, Note] = field(default_factory=dict)  # by script key: "A1", "B1", …
    midpoint: int = 0  # room 1's seq after the notes were written, before clustering, deletion and withdrawal
    end: int = 0  # room 1's last seq
    clusters: dict[str, str] = field(default_factory=dict)  # label -> id (room 1)
    deleted: str = "C2"
    withdrawn: str = "A3"

    def note(self, key: str) -> Note:
        return self.notes[key]


async def settle(client: BoardClient, *others: BoardClient) -> None:
    """Wait until the server has broadcast everything ``client`` wrote (it was accepted and logged),
    and until ``others`` hold the same votes, so the next voter edits the ballot the last one wrote."""
    await client.wait_for_confirmed(lambda board: board == client.board(), within_s=10)
    assert client.y.denied == [], client.y.denied_reasons()
    votes = client.confirmed()["votes"]
    for other in others:
        await other.wait_for_confirmed(lambda board: board["votes"] == votes, within_s=10)


async def _write(
    shop: Workshop, client: BoardClient, room: str, key: str, text: str, section: str, *, signed: bool, scope: str
) -> None:
    name = client.name if signed else None
    note_id = await client.add_note(text, section=section, author_name=name, scope=scope)
    await settle(client)
    shop.notes[key] = Note(note_id, room, text, client.author, client.name, signed, scope)


async def run_workshop(server: Any) -> Workshop:
    event = create_event(server, title="Engage unconference", template="beyond-hero-stories", rooms=2)
    room1, room2 = event.breakouts
    shop = Workshop(event, room1, room2)
    people = {name: event.join(name) for name in ("Ada", "Ben", "Dee")}
    cy = event.join(None)
    async with AsyncExitStack() as stack:

        async def connect(room: str, token: str, author: str, name: str | None) -> BoardClient:
            return await stack.enter_async_context(board_client(event, room, token, author, name))

        fac = await connect(room1, event.facilitator, "facilitator", None)
        ada = await connect(room1, people["Ada"].token, people["Ada"].subject, "Ada")
        ben = await connect(room1, people["Ben"].token, people["Ben"].subject, "Ben")
        cyc = await connect(room1, cy.token, cy.subject, None)
        writers = {"Ada": ada, "Ben": ben, "Cy": cyc}
        for key, who, text, section, signed, scope in ROOM1_NOTES:
            await _write(shop, writers[who], room1, key, text, section, signed=signed, scope=scope)
        shop.midpoint = event.seq(room1)

        culture = await fac.add_cluster(IDEAS, "Culture", x=0, y=0)
        funders = await fac.add_cluster(IDEAS, "Funders", x=400, y=0)
        shop.clusters = {"Culture": culture, "Funding": funders}
        await settle(fac)
        for key, cluster in (("A1", culture), ("B2", culture), ("C1", culture), ("B1", funders)):
            await fac.set_note(shop.note(key).id, cluster=cluster)
        voters = (fac, ada, ben, cyc)
        await fac.set_meta(phase="vote")
        await settle(fac, *voters)
        await ben.vote(shop.note("A1").id, 2)
        await settle(ben, *voters)
        await cyc.vote(shop.note("A1").id, 1)
        await settle(cyc, *voters)
        await ada.vote(shop.note("B2").id, 1)
        await settle(ada, *voters)
        await ada.vote(shop.note("C1").id, 3)
        await settle(ada, *voters)
        await cyc.delete_note(shop.note("C2").id)
        await settle(cyc)
        await ada.set_note(shop.note("A3").id, withdrawn=True)
        await settle(ada)
        await ben.set_note(shop.note("A1").id, x=120, y=80)
        await settle(ben)
        await fac.set_cluster(funders, label="Funding")
        await fac.set_meta(locked=True, timer={"ends_at_ms": 1_900_000_000_000, "duration_s": 300})
        await settle(fac)
        await fac.set_meta(locked=False, phase="done")
        await settle(fac)
        shop.end = event.seq(room1)

        fac2 = await connect(room2, event.facilitator, "facilitator", None)
        dee = await connect(room2, people["Dee"].token, people["Dee"].subject, "Dee")
        for key, _, text, section, signed, scope in ROOM2_NOTES:
            await _write(shop, dee, room2, key, text, section, signed=signed, scope=scope)
        culture2 = await fac2.add_cluster(IDEAS, "  culture ", x=0, y=0)
        await settle(fac2)
        await fac2.set_note(shop.note("D1").id, cluster=culture2)
        await settle(fac2)
    await asyncio.sleep(0)
    return shop
