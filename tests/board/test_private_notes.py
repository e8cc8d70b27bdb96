"""Notes written privately during collect reach no other participant's connection until the reveal."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest
from pycrdt import Doc, Map
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from candor.errors import WS_4403_FORBIDDEN
from yclient import yclient

SECRET = "I never told my funder what really went wrong"


def post(server: Any, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    request = urllib.request.Request(server.http_url + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


@pytest.fixture
def session(make_server: Any) -> dict[str, Any]:
    server = make_server(open_rooms=False)
    event = post(server, "/api/events", {"title": "Beyond hero stories", "template": "beyond-hero-stories", "rooms": 1})
    joined = {
        who: post(server, f"/api/events/{event['event_id']}/join", {"code": event["join_code"], "agree": True})
        for who in ("ada", "bo")
    }
    room = event["rooms"][0]["id"]
    return {"server": server, "event": event, "room": room, **joined}


def url(session: dict[str, Any], room: str, token: str) -> str:
    return str(session["server"].ws_url(room)) + f"?token={token}"


def private_note(author: str) -> Any:
    def change(doc: Doc[Any]) -> None:
        doc.get("notes", type=Map)["secret-1"] = Map(
            {"section": "what-did-you-do", "text": SECRET, "author": author, "scope": "room", "colour": "pink"}
        )

    return change


async def test_a_private_note_reaches_no_one_else_until_the_reveal(session: dict[str, Any]) -> None:
    ada, bo, room = session["ada"], session["bo"], session["room"]
    facilitator = session["event"]["facilitator_token"]
    drafts = f"{room}~{ada['participant']}"
    async with (
        yclient(url(session, room, bo["token"])) as bo_board,
        yclient(url(session, room, facilitator)) as host,
        yclient(url(session, drafts, ada["token"])) as ada_drafts,
    ):
        await ada_drafts.transact(private_note(ada["participant"]))
        await ada_drafts.wait_for(lambda: "secret-1" in ada_drafts.confirmed_notes() or ada_drafts.denied)
        assert not ada_drafts.denied, ada_drafts.denied_reasons()
        async with yclient(url(session, drafts, facilitator)) as moderator:
            assert moderator.confirmed_notes()["secret-1"]["text"] == SECRET  # facilitators may look

        def set_phase(doc: Doc[Any]) -> None:
            doc.get("meta", type=Map)["phase"] = "reveal"

        before_reveal = list(bo_board.frames)
        assert not any(SECRET.encode() in frame for frame in before_reveal)
        await host.transact(set_phase)

        def revealed() -> list[dict[str, Any]]:
            return [note for note in bo_board.confirmed_notes().values() if note.get("text") == SECRET]

        await bo_board.wait_for(lambda: bool(revealed()))
        assert revealed()[0]["author"] == ada["participant"]
        await ada_drafts.wait_for(lambda: "secret-1" not in ada_drafts.confirmed_notes())


async def test_another_participant_cannot_open_someone_elses_drafts(session: dict[str, Any]) -> None:
    drafts = f"{session['room']}~{session['ada']['participant']}"
    async with connect(url(session, drafts, session["bo"]["token"])) as intruder:
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                while True:
                    await intruder.recv()
    assert intruder.close_code == WS_4403_FORBIDDEN
    assert "author" in (intruder.close_reason or "")


async def test_a_draft_never_replaces_a_board_note_and_a_withdrawn_draft_stays_private(session: dict[str, Any]) -> None:
    ada, bo, room = session["ada"], session["bo"], session["room"]
    facilitator = session["event"]["facilitator_token"]
    bos_note = "Not understanding needs beyond ourselves."
    regret = "Embarrassed that I hadn't talked about it much before"
    async with (
        yclient(url(session, room, bo["token"])) as bo_board,
        yclient(url(session, room, facilitator)) as host,
        yclient(url(session, f"{room}~{ada['participant']}", ada["token"])) as ada_drafts,
    ):

        def bo_writes(doc: Doc[Any]) -> None:
            doc.get("notes", type=Map)["taken"] = Map(
                {"section": "define-the-problem", "text": bos_note, "author": bo["participant"], "scope": "room"}
            )

        await bo_board.transact(bo_writes)
        await bo_board.wait_for(lambda: "taken" in bo_board.confirmed_notes())

        def drafts(doc: Doc[Any]) -> None:
            notes = doc.get("notes", type=Map)
            for note_id, text, withdrawn in (("taken", SECRET, False), ("regret", regret, True)):
                fields = {"section": "what-did-you-do", "text": text, "author": ada["participant"], "scope": "room"}
                notes[note_id] = Map({**fields, "withdrawn": withdrawn})

        await ada_drafts.transact(drafts)
        await ada_drafts.wait_for(lambda: len(ada_drafts.confirmed_notes()) == 2 or ada_drafts.denied)
        assert not ada_drafts.denied, ada_drafts.denied_reasons()

        def set_phase(doc: Doc[Any]) -> None:
            doc.get("meta", type=Map)["phase"] = "reveal"

        await host.transact(set_phase)
        await bo_board.wait_for(lambda: any(n.get("text") == SECRET for n in bo_board.confirmed_notes().values()))
        await ada_drafts.wait_for(lambda: "taken" not in ada_drafts.confirmed_notes())
        board = bo_board.confirmed_notes()
        assert board["taken"]["text"] == bos_note and board["taken"]["author"] == bo["participant"]
        (published,) = [note_id for note_id, note in board.items() if note.get("text") == SECRET]
        assert published != "taken" and board[published]["author"] == ada["participant"]
        assert all(note.get("text") != regret for note in board.values())  # withdrawn: never published
        assert ada_drafts.confirmed_notes()["regret"]["withdrawn"] is True  # kept where it was
    assert not any(regret.encode() in frame for frame in bo_board.frames)
