"""The facilitator's console over real HTTP and websockets: drafts counted never read, top ideas sent to the plenary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from boards import board_client, call, create_event
from candor.workshops.console import top_ideas

PROBLEM = "define-the-problem"
PRIVATE = "what-did-you-do"
IDEAS = "practical-ideas"


@pytest.fixture(scope="module")
def server(make_module_server: Any) -> Any:
    return make_module_server(open_rooms=False)


def figures(server: Any, event: Any) -> dict[str, Any]:
    reply = call(server, "GET", f"/api/events/{event.id}/rooms", token=event.facilitator)
    assert reply.status == 200, reply
    return {room["id"]: room for room in reply.body["rooms"]}


async def test_the_console_counts_private_drafts_per_section_without_their_text(server: Any) -> None:
    event = create_event(server, template="beyond-hero-stories", rooms=1)
    room = event.breakouts[0]
    ada, ben = event.join("Ada"), event.join()
    secret = "Our plan assumed the funder's timeline"
    async with (
        board_client(event, f"{room}~{ada.subject}", ada.token, ada.subject, "Ada") as ada_drafts,
        board_client(event, f"{room}~{ben.subject}", ben.token, ben.subject) as ben_drafts,
        board_client(event, room, ben.token, ben.subject) as ben_board,
    ):
        await ada_drafts.add_note(secret, section=PRIVATE)
        await ada_drafts.add_note("Were there capacity or resource failures? Yes, two people left", section=PRIVATE)
        await ben_drafts.add_note("The venue cancelled on the day", section=PRIVATE)
        withdrawn = await ben_board.add_note("Mainly positive examples of impact are shared", section=PROBLEM)
        await ben_board.add_note("We don't talk about failure and learn from it.", section=PROBLEM)
        await ben_board.set_note(withdrawn, withdrawn=True)
        await ben_board.wait_for_confirmed(lambda b: b["notes"].get(withdrawn, {}).get("withdrawn") is True)
        for client in (ada_drafts, ben_drafts):
            await client.wait_for_confirmed(lambda b: len(b["notes"]) >= 1)
        await ada_drafts.wait_for_confirmed(lambda b: len(b["notes"]) == 2)

        reply = call(server, "GET", f"/api/events/{event.id}/rooms", token=event.facilitator)
        mine = next(r for r in reply.body["rooms"] if r["id"] == room)
        assert mine["phase"] == "collect"
        assert (mine["drafts"], mine["drafts_per_section"], mine["drafting"]) == (3, {PRIVATE: 3}, 2)
        assert (mine["notes"], mine["notes_per_section"], mine["withdrawn"]) == (1, {PROBLEM: 1}, 1)
        assert mine["present"] == 1  # on the board itself; drafts rooms are not people
        text = json.dumps(reply.body)
        assert "funder" not in text and "venue" not in text  # counts only, never what people wrote

        participant = call(server, "GET", f"/api/events/{event.id}/rooms", token=ben.token)
        assert participant.status == 403


async def test_top_ideas_go_to_the_plenary_in_one_action_with_their_votes_and_room(server: Any) -> None:
    event = create_event(server, template="beyond-hero-stories", rooms=2)
    room1, room2 = event.breakouts
    ada, dee, eve = event.join("Ada"), event.join("Dee"), event.join("Eve")
    async with (
        board_client(event, room1, event.facilitator, "facilitator") as fac1,
        board_client(event, room1, ada.token, ada.subject, "Ada") as ada1,
        board_client(event, room2, dee.token, dee.subject, "Dee") as dee2,
        board_client(event, room2, event.facilitator, "facilitator") as fac2,
        board_client(event, room1, eve.token, eve.subject, "Eve") as eve1,
    ):
        session = await ada1.add_note(
            "Have a 'failure session' at each team meeting", section=IDEAS, scope="event", author_name="Ada"
        )
        kept = await ada1.add_note("Incentivise people to share failure", section=IDEAS, scope="room")
        funders = await ada1.add_note(
            "Get funders to request a section in reports about what went wrong", section=IDEAS, scope="public"
        )
        cafe = await dee2.add_note("Hold world cafe sessions to talk about failure", section=IDEAS, scope="event")
        # The facilitators' clients open a ballot for each note they hold as voting starts: they must hold them all.
        await fac1.wait_for_confirmed(lambda b: len(b["notes"]) == 3)
        await fac2.wait_for_confirmed(lambda b: len(b["notes"]) == 1)
        await fac1.set_meta(phase="vote")
        await fac2.set_meta(phase="vote")
        await ada1.wait_for_confirmed(lambda b: b["meta"]["phase"] == "vote" and len(b["votes"]) == 3)
        await ada1.vote(session, 3)
        await eve1.wait_for_confirmed(lambda b: b["meta"]["phase"] == "vote" and session in b["votes"])
        await eve1.vote(session, 1)
        await ada1.vote(kept, 1)
        await ada1.wait_for_confirmed(lambda b: sum(b["votes"][session].values()) == 4)
        await dee2.wait_for_confirmed(lambda b: b["meta"]["phase"] == "vote" and cafe in b["votes"])
        await dee2.vote(cafe, 2)
        await dee2.wait_for_confirmed(lambda b: b["votes"][cafe].get(dee.subject) == 2)

        reply = call(server, "GET", f"/api/events/{event.id}/ideas?per_room=2", token=event.facilitator)
        assert reply.status == 200, reply
        per_room = {r["id"]: r["ideas"] for r in reply.body["rooms"]}
        assert event.plenary not in per_room
        assert [(i["text"], i["votes"]) for i in per_room[room1]] == [
            ("Have a 'failure session' at each team meeting", 4),
            ("Get funders to request a section in reports about what went wrong", 0),
        ]  # the room-only note never appears, however many votes it has
        assert [i["note"] for i in per_room[room2]] == [cafe]

        chosen = [{"room": room1, "note": session}, {"room": room1, "note": kept}, {"room": room2, "note": cafe}]
        sent = call(server, "POST", f"/api/events/{event.id}/plenary", {"notes": chosen}, token=event.facilitator)
        assert sent.status == 200, sent
        assert sent.body["skipped"] == 1  # the note its author kept in the room
        copies = {(s["room"], s["note"]): s["copy"] for s in sent.body["copied"]}
        assert set(copies) == {(room1, session), (room2, cafe)}
        plenary = event.board(event.plenary)["board"]
        copied = plenary["notes"][copies[room1, session]]
        assert (copied["text"], copied["from_room"], copied["from_note"], copied["author_name"]) == (
            "Have a 'failure session' at each team meeting",
            room1,
            session,
            "Ada",
        )
        assert copied["author"] == ada.subject  # the server carries the author's authorship, nobody else can
        assert plenary["notes"][copies[room2, cafe]]["from_room"] == room2
        assert copied["carried_votes"] == 4 and plenary["notes"][copies[room2, cafe]]["carried_votes"] == 2
        assert plenary["votes"] == {}  # carried dots count against nobody's budget on the plenary
        assert all(n["text"] != "Incentivise people to share failure" for n in plenary["notes"].values())

        again = call(server, "POST", f"/api/events/{event.id}/plenary", {"notes": chosen}, token=event.facilitator)
        assert again.status == 200
        assert len(event.board(event.plenary)["board"]["notes"]) == 2  # sending twice adds nothing

        for bad in ({"notes": []}, {"notes": [{"room": event.plenary, "note": session}]}, {"notes": "all"}):
            refused = call(server, "POST", f"/api/events/{event.id}/plenary", bad, token=event.facilitator)
            assert refused.status in (400, 404), refused
        participant = call(server, "POST", f"/api/events/{event.id}/plenary", {"notes": chosen}, token=ada.token)
        assert participant.status == 403
        assert funders


def test_top_ideas_leave_out_withdrawn_and_room_only_notes() -> None:
    board = {
        "notes": {
            "a": {"section": IDEAS, "text": "Reframe failure as learning", "scope": "event", "created_ms": 2},
            "b": {"section": IDEAS, "text": "Find allies and buddies", "scope": "public", "created_ms": 1},
            "c": {"section": IDEAS, "text": "Kept here", "scope": "room", "created_ms": 0},
            "d": {"section": IDEAS, "text": "Regretted", "scope": "event", "withdrawn": True, "created_ms": 0},
        },
        "votes": {"a": {"u-1": 2}, "c": {"u-1": 9}, "d": {"u-2": 9}, "b": {}},
    }
    assert [idea["note"] for idea in top_ideas(board, 5)] == ["a", "b"]


def test_links_reach_only_this_computer_when_the_server_listens_on_loopback(server: Any) -> None:
    reply = call(server, "GET", "/api/reach")
    assert reply.body == {
        "base_url": server.http_url,
        "loopback_only": True,
        "open_command": "./scripts/serve --host 0.0.0.0",
    }
    event = create_event(server)
    assert event.data["reach"]["loopback_only"] is True


def test_public_url_goes_into_every_link_and_qr(make_server: Any) -> None:
    public = make_server("--public-url", "https://candor.example.org/", open_rooms=False)
    event = create_event(public)
    assert event.data["join_url"].startswith(f"https://candor.example.org/join/{event.id}?code=")
    assert event.data["viewer_url"].startswith("https://candor.example.org/board/")
    assert event.data["facilitator_url"].startswith("https://candor.example.org/event/")
    assert event.data["rooms"][0]["ws_url"].startswith("wss://candor.example.org/ws/")
    assert event.data["reach"] == {
        "base_url": "https://candor.example.org",
        "loopback_only": False,
        "open_command": None,
    }


def test_a_server_open_to_the_room_puts_its_lan_address_in_the_links(make_server: Any) -> None:
    from candor.reach import lan_address

    address = lan_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    room_wide = make_server(
        "--host", "0.0.0.0", "--create-token", "our-room-only", open_rooms=False
    )  # last --host wins
    event = create_event(room_wide, token="our-room-only")  # asked over 127.0.0.1, as the facilitator's browser does
    assert event.data["join_url"].startswith(f"http://{address}:{room_wide.port}/join/")
    assert event.data["reach"]["loopback_only"] is False
    assert f"People in the room open http://{address}:{room_wide.port}/" in room_wide.log()
