"""The events API over real HTTP: creating events from templates, joining, managing rooms, and who may open a room."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Map
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from boards import Event, board_client, call, create_event, custom_template
from candor.board.templates import builtin_templates, template_to_json
from candor.errors import WS_4401_UNAUTHORIZED, WS_4403_FORBIDDEN, WS_4404_ROOM_NOT_FOUND
from yclient import yclient

BUILTIN_IDS = ["beyond-hero-stories", "blank", "failure-story-interview", "story-of-change"]
WITH_AGREEMENT = "beyond-hero-stories"


@pytest.fixture(scope="module")
def server(make_module_server: Any) -> Any:
    """One server in event mode for the module: rooms must belong to events."""
    return make_module_server(open_rooms=False)


@pytest.fixture
def event(server: Any) -> Event:
    return create_event(server, template="story-of-change", rooms=2)


async def close_code_of(url: str) -> tuple[int | None, str]:
    """Connect, then wait for the server to close the websocket; its code and reason."""
    async with connect(url, max_size=None) as ws:
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
        return ws.close_code, ws.close_reason or ""


def sections_as_created(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": s["id"], "title": s["title"], "prompts": s.get("prompts", [])} for s in template["sections"]]


def sections_on_board(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": s["id"], "title": s["title"], "prompts": s["prompts"]} for s in board["board"]["sections"]]


def log_seqs(data_dir: Path, room: str) -> list[int]:
    with contextlib.closing(sqlite3.connect(data_dir / "candor.sqlite3")) as db:
        return [row[0] for row in db.execute("SELECT seq FROM log WHERE room = ? ORDER BY seq", (room,))]


# -- templates and creating events ------------------------------------------------


def test_templates_lists_every_builtin(server: Any) -> None:
    reply = call(server, "GET", "/api/templates")
    assert reply.status == 200
    assert sorted(t["id"] for t in reply.body["templates"]) == BUILTIN_IDS


@pytest.mark.parametrize("template", BUILTIN_IDS)
def test_create_event_from_a_builtin_returns_the_documented_fields(server: Any, template: str) -> None:
    reply = call(server, "POST", "/api/events", {"title": "Autumn gathering", "template": template, "rooms": 3})
    assert reply.status == 201, reply
    body = reply.body
    event_id = body["event_id"]
    assert body["title"] == "Autumn gathering"
    assert body["template"] == template
    assert body["facilitator_token"] and body["viewer_token"]
    assert body["facilitator_token"] != body["viewer_token"]
    assert len(body["join_code"]) == 6
    assert event_id in body["join_url"] and body["join_code"] in body["join_url"]
    rooms = body["rooms"]
    assert len(rooms) == 3 + 1
    assert sorted(r["kind"] for r in rooms) == ["breakout", "breakout", "breakout", "plenary"]
    assert len({r["id"] for r in rooms}) == 4
    for room in rooms:
        assert room["ws_url"] == f"ws://127.0.0.1:{server.port}/ws/{room['id']}"
        assert room["label"]


@pytest.mark.parametrize("template", BUILTIN_IDS)
def test_every_room_of_a_new_event_starts_with_the_template_sections_and_prompts(server: Any, template: str) -> None:
    event = create_event(server, template=template, rooms=2)
    expected = sections_as_created(template_to_json(builtin_templates()[template]))
    for room in event.data["rooms"]:
        board = event.board(room["id"])
        assert sections_on_board(board) == expected
        meta = board["board"]["meta"]
        assert (meta["template"], meta["event"], meta["kind"], meta["phase"]) == (
            template,
            event.id,
            room["kind"],
            "collect",
        )
        assert board["board"]["notes"] == {}


def test_an_event_with_no_breakout_rooms_has_only_the_plenary(server: Any) -> None:
    event = create_event(server, rooms=0)
    assert [r["kind"] for r in event.data["rooms"]] == ["plenary"]


def test_custom_json_template_is_accepted(server: Any) -> None:
    template = custom_template()
    event = create_event(server, template=template, rooms=1)
    assert event.data["template"] == "retro"
    board = event.board(event.breakouts[0])
    assert sections_on_board(board) == sections_as_created(template)
    assert board["board"]["meta"]["votes_per_person"] == 3
    assert board["board"]["meta"]["note_max_chars"] == 100


def test_broken_template_returns_422_with_one_problem_per_fault(server: Any) -> None:
    broken = {"id": "Not An Id", "title": "   ", "sections": [], "colour": "red"}
    reply = call(server, "POST", "/api/events", {"title": "Broken", "template": broken, "rooms": 1})
    assert reply.status == 422
    error = reply.error
    assert error["code"] == "invalid_template"
    assert "4 problems" in error["message"]
    # The problems must reach the person who sent the template, one per fault, each with where and why.
    problems = error.get("problems")
    assert isinstance(problems, list), f"the 422 body does not list the problems: {reply.body}"
    assert sorted(p["path"] for p in problems) == ["/colour", "/id", "/sections", "/title"]
    assert all(isinstance(p["message"], str) and p["message"] for p in problems)


def test_unknown_builtin_template_is_400_naming_the_choices(server: Any) -> None:
    reply = call(server, "POST", "/api/events", {"title": "T", "template": "no-such-template", "rooms": 1})
    assert reply.status == 400
    assert "no-such-template" in reply.error["message"]
    assert "story-of-change" in reply.error["message"]


@pytest.mark.parametrize(
    "body",
    [{"title": "", "rooms": 1}, {"title": "T", "rooms": -1}, {"title": "T", "rooms": "three"}, {"rooms": 1}],
    ids=["empty-title", "negative-rooms", "rooms-as-text", "no-title"],
)
def test_create_event_with_bad_fields_is_400(server: Any, body: dict[str, Any]) -> None:
    reply = call(server, "POST", "/api/events", body)
    assert reply.status == 400
    assert reply.error["code"] == "bad_request"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"], ids=["broken", "not-an-object", "not-utf8"])
def test_malformed_json_is_400(server: Any, raw: bytes) -> None:
    reply = call(server, "POST", "/api/events", raw=raw)
    assert reply.status == 400
    assert "JSON" in reply.error["message"]


def test_malformed_json_on_join_is_400(server: Any, event: Event) -> None:
    reply = call(server, "POST", f"/api/events/{event.id}/join", raw=b'{"code": ')
    assert reply.status == 400
    assert "JSON" in reply.error["message"]


# -- joining ----------------------------------------------------------------------


def test_join_info_shows_the_agreement_to_accept(server: Any) -> None:
    event = create_event(server, template=WITH_AGREEMENT)
    reply = call(server, "GET", f"/api/events/{event.id}/join?code={event.data['join_code']}")
    assert reply.status == 200
    assert reply.body["agreement"]["title"] == "Relational agreement"
    assert "token" not in reply.body


def test_join_without_agreeing_is_403_with_a_clear_message(server: Any) -> None:
    event = create_event(server, template=WITH_AGREEMENT)
    reply = call(server, "POST", f"/api/events/{event.id}/join", {"code": event.data["join_code"]})
    assert reply.status == 403
    assert "agreement" in reply.error["message"]
    assert "token" not in reply.body


def test_join_declining_the_agreement_is_403(server: Any) -> None:
    event = create_event(server, template=WITH_AGREEMENT)
    reply = call(server, "POST", f"/api/events/{event.id}/join", {"code": event.data["join_code"], "agree": False})
    assert reply.status == 403
    assert "agreement" in reply.error["message"]


def test_join_with_a_wrong_code_is_403(server: Any) -> None:
    event = create_event(server, template=WITH_AGREEMENT)
    wrong = "ZZZZZZ" if event.data["join_code"] != "ZZZZZZ" else "YYYYYY"
    reply = call(server, "POST", f"/api/events/{event.id}/join", {"code": wrong, "agree": True})
    assert reply.status == 403
    assert "code" in reply.error["message"]


def test_join_accepting_the_agreement_returns_a_participant_token(server: Any) -> None:
    event = create_event(server, template=WITH_AGREEMENT, rooms=2)
    code = event.data["join_code"].lower()  # codes are read aloud and typed on phones
    reply = call(server, "POST", f"/api/events/{event.id}/join", {"code": code, "agree": True, "name": " Ada "})
    assert reply.status == 200
    assert reply.body["token"]
    assert reply.body["participant"].startswith("u-")
    assert [r["id"] for r in reply.body["rooms"]] == event.rooms
    # The token opens the event to its holder.
    seen = call(server, "GET", f"/api/events/{event.id}", token=reply.body["token"])
    assert seen.status == 200


def test_each_join_gets_its_own_pseudonym(server: Any, event: Event) -> None:
    assert event.join("Ada").subject != event.join("Ada").subject


def test_join_with_a_name_too_long_is_400(server: Any, event: Event) -> None:
    body = {"code": event.data["join_code"], "agree": True, "name": "x" * 81}
    reply = call(server, "POST", f"/api/events/{event.id}/join", body)
    assert reply.status == 400
    assert "name" in reply.error["message"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/events/evnosuch/join", {"code": "ABCDEF", "agree": True}),
        ("GET", "/api/events/evnosuch/join?code=ABCDEF", None),
    ],
    ids=["join", "join-info"],
)
def test_unknown_event_is_404(server: Any, method: str, path: str, body: Any) -> None:
    reply = call(server, method, path, body)
    assert reply.status == 404
    assert "evnosuch" in reply.error["message"]


# -- facilitator-only endpoints ---------------------------------------------------

FACILITATOR_ONLY = [
    ("GET", "/rooms", None),
    ("POST", "/rooms", {"label": "Extra"}),
    ("PATCH", "/rooms/{room}", {"label": "Renamed"}),
]
FACILITATOR_ONLY_IDS = ["list-rooms", "add-room", "rename-room"]


def _path(event: Event, suffix: str) -> str:
    return f"/api/events/{event.id}" + suffix.format(room=event.breakouts[0])


@pytest.mark.parametrize(("method", "suffix", "body"), FACILITATOR_ONLY, ids=FACILITATOR_ONLY_IDS)
def test_facilitator_endpoint_with_a_participant_token_is_403(
    server: Any, event: Event, method: str, suffix: str, body: Any
) -> None:
    reply = call(server, method, _path(event, suffix), body, token=event.join("Ada").token)
    assert reply.status == 403
    assert "facilitator" in reply.error["message"]


@pytest.mark.parametrize(("method", "suffix", "body"), FACILITATOR_ONLY, ids=FACILITATOR_ONLY_IDS)
def test_facilitator_endpoint_with_a_viewer_token_is_403(
    server: Any, event: Event, method: str, suffix: str, body: Any
) -> None:
    reply = call(server, method, _path(event, suffix), body, token=event.viewer)
    assert reply.status == 403


@pytest.mark.parametrize(("method", "suffix", "body"), FACILITATOR_ONLY, ids=FACILITATOR_ONLY_IDS)
def test_facilitator_endpoint_without_a_token_is_401(
    server: Any, event: Event, method: str, suffix: str, body: Any
) -> None:
    reply = call(server, method, _path(event, suffix), body)
    assert reply.status == 401
    assert "token" in reply.error["message"]


@pytest.mark.parametrize(("method", "suffix", "body"), FACILITATOR_ONLY, ids=FACILITATOR_ONLY_IDS)
def test_facilitator_endpoint_with_a_forged_token_is_401(
    server: Any, event: Event, method: str, suffix: str, body: Any
) -> None:
    forged = event.facilitator[:-4] + ("AAAA" if not event.facilitator.endswith("AAAA") else "BBBB")
    reply = call(server, method, _path(event, suffix), body, token=forged)
    assert reply.status == 401


def test_facilitator_token_of_another_event_is_403(server: Any, event: Event) -> None:
    other = create_event(server)
    reply = call(server, "GET", f"/api/events/{event.id}/rooms", token=other.facilitator)
    assert reply.status == 403
    assert "another event" in reply.error["message"]


def test_token_in_the_query_string_is_accepted(server: Any, event: Event) -> None:
    reply = call(server, "GET", f"/api/events/{event.id}/rooms?token={event.facilitator}")
    assert reply.status == 200


# -- managing rooms ---------------------------------------------------------------


def test_list_rooms_of_an_untouched_event_shows_nobody_and_no_notes(server: Any, event: Event) -> None:
    reply = call(server, "GET", f"/api/events/{event.id}/rooms", token=event.facilitator)
    assert reply.status == 200
    rooms = reply.body["rooms"]
    assert [r["id"] for r in rooms] == event.rooms
    for room in rooms:
        assert room["present"] == 0
        assert room["notes"] == 0
        assert isinstance(room["last_activity_ms"], int)  # the template was written at creation


async def test_list_rooms_shows_who_is_present_and_their_notes(server: Any, event: Event) -> None:
    room = event.breakouts[0]
    ada = event.join("Ada")

    def figures() -> dict[str, Any]:
        reply = call(server, "GET", f"/api/events/{event.id}/rooms", token=event.facilitator)
        return next(r for r in reply.body["rooms"] if r["id"] == room)

    before = figures()
    async with board_client(event, room, ada.token, ada.subject) as client:
        assert figures()["present"] == 1
        await client.add_note("first", section="beginning")
        await client.add_note("second", section="end")
        await client.wait_for_confirmed(lambda board: len(board["notes"]) == 2)
        live = figures()
        assert live["present"] == 1
        assert live["notes"] == 2
        assert live["notes_per_section"] == {"beginning": 1, "end": 1}
        assert live["last_activity_ms"] > before["last_activity_ms"]
    others = [r for r in call(server, "GET", f"/api/events/{event.id}/rooms", token=event.facilitator).body["rooms"]]
    assert all(r["notes"] == 0 for r in others if r["id"] != room)


def test_rename_room(server: Any, event: Event) -> None:
    room = event.breakouts[1]
    path = f"/api/events/{event.id}/rooms/{room}"
    reply = call(server, "PATCH", path, {"label": " Table B "}, token=event.facilitator)
    assert reply.status == 200
    assert (reply.body["id"], reply.body["label"]) == (room, "Table B")
    listed = call(server, "GET", f"/api/events/{event.id}/rooms", token=event.facilitator).body["rooms"]
    assert next(r["label"] for r in listed if r["id"] == room) == "Table B"


def test_rename_room_with_an_empty_label_is_400(server: Any, event: Event) -> None:
    reply = call(
        server, "PATCH", f"/api/events/{event.id}/rooms/{event.breakouts[0]}", {"label": "  "}, token=event.facilitator
    )
    assert reply.status == 400
    assert "label" in reply.error["message"]


def test_rename_unknown_room_is_404(server: Any, event: Event) -> None:
    # Expected: an unknown room in the path is "not found", like an unknown event.
    path = f"/api/events/{event.id}/rooms/{event.id}-r99"
    reply = call(server, "PATCH", path, {"label": "X"}, token=event.facilitator)
    assert reply.status == 404, reply
    assert "r99" in reply.error["message"]


def test_rename_a_room_of_another_event_is_refused(server: Any, event: Event) -> None:
    other = create_event(server)
    reply = call(
        server, "PATCH", f"/api/events/{event.id}/rooms/{other.breakouts[0]}", {"label": "X"}, token=event.facilitator
    )
    assert 400 <= reply.status < 500
    assert (
        other.data["rooms"][0]["label"]
        == call(server, "GET", f"/api/events/{other.id}/rooms", token=other.facilitator).body["rooms"][0]["label"]
    )


def test_add_room_during_the_session(server: Any, event: Event) -> None:
    reply = call(server, "POST", f"/api/events/{event.id}/rooms", {"label": "Late arrivals"}, token=event.facilitator)
    assert reply.status == 201
    added = reply.body
    assert added["label"] == "Late arrivals"
    assert added["kind"] == "breakout"
    assert added["id"] not in event.rooms
    assert added["ws_url"].endswith(f"/ws/{added['id']}")
    listed = call(server, "GET", f"/api/events/{event.id}/rooms", token=event.facilitator).body["rooms"]
    assert [r["id"] for r in listed] == [*event.rooms, added["id"]]


def test_added_room_is_initialised_from_the_template(server: Any, event: Event) -> None:
    added = call(server, "POST", f"/api/events/{event.id}/rooms", {}, token=event.facilitator).body
    board = event.board(added["id"])
    assert board["seq"] == 1
    expected = sections_as_created(template_to_json(builtin_templates()["story-of-change"]))
    assert sections_on_board(board) == expected
    assert board["board"]["meta"]["kind"] == "breakout"


async def test_added_room_can_be_joined_with_an_existing_participant_token(server: Any, event: Event) -> None:
    ada = event.join("Ada")
    added = call(server, "POST", f"/api/events/{event.id}/rooms", {}, token=event.facilitator).body
    async with board_client(event, added["id"], ada.token, ada.subject) as client:
        assert client.section_ids()[0] == "beginning"


def test_board_read_needs_a_token_of_the_event(server: Any, event: Event) -> None:
    room = event.breakouts[0]
    assert call(server, "GET", f"/api/rooms/{room}/board").status == 401
    assert call(server, "GET", f"/api/rooms/{room}/board", token=create_event(server).facilitator).status == 403
    assert call(server, "GET", f"/api/rooms/{room}/board", token=event.viewer).status == 200


def test_board_of_a_room_in_no_event_is_404(server: Any) -> None:
    reply = call(server, "GET", "/api/rooms/free-form/board")
    assert reply.status == 404
    assert "free-form" in reply.error["message"]


def test_template_board_is_written_exactly_once_even_after_restart(make_server: Any) -> None:
    server = make_server(open_rooms=False)
    event = create_event(server, template="failure-story-interview", rooms=2)
    assert {room: event.seq(room) for room in event.rooms} == dict.fromkeys(event.rooms, 1)
    assert server.terminate() in (0, -15)
    server.start()
    assert {room: event.seq(room) for room in event.rooms} == dict.fromkeys(event.rooms, 1)
    # Adding a room after the restart initialises only that room.
    added = call(server, "POST", f"/api/events/{event.id}/rooms", {}, token=event.facilitator).body["id"]
    assert server.terminate() in (0, -15)
    for room in [*event.rooms, added]:
        assert log_seqs(server.data_dir, room) == [1]


async def test_opening_a_room_after_restart_does_not_rewrite_the_template(make_server: Any) -> None:
    server = make_server(open_rooms=False)
    event = create_event(server, rooms=1)
    server.terminate()
    server.start()
    ada = event.join()
    async with board_client(event, event.breakouts[0], ada.token, ada.subject) as client:
        assert client.section_ids() == ["notes"]
        assert len(client.board()["sections"]) == 1
    assert event.seq(event.breakouts[0]) == 1


# -- websocket access -------------------------------------------------------------


async def test_websocket_without_a_token_is_closed_with_4401(server: Any, event: Event) -> None:
    code, reason = await close_code_of(event.ws_url(event.breakouts[0], None))
    assert code == WS_4401_UNAUTHORIZED
    assert "token" in reason


async def test_websocket_with_a_forged_token_is_closed_with_4401(server: Any, event: Event) -> None:
    code, _ = await close_code_of(event.ws_url(event.breakouts[0], "c1.bm90.aGVsbG8"))
    assert code == WS_4401_UNAUTHORIZED


async def test_websocket_with_a_token_of_another_event_is_closed_with_4403(server: Any, event: Event) -> None:
    other = create_event(server)
    code, reason = await close_code_of(event.ws_url(event.breakouts[0], other.join().token))
    assert code == WS_4403_FORBIDDEN
    assert "another event" in reason


async def test_websocket_to_a_room_in_no_event_is_closed_with_4404(server: Any, event: Event) -> None:
    code, reason = await close_code_of(event.ws_url("not-an-event-room", event.facilitator))
    assert code == WS_4404_ROOM_NOT_FOUND
    assert "--open-rooms" in reason


@pytest.mark.parametrize("role", ["facilitator", "participant", "viewer"])
async def test_websocket_with_a_token_of_the_event_syncs_the_board(server: Any, event: Event, role: str) -> None:
    token = {"facilitator": event.facilitator, "viewer": event.viewer}.get(role) or event.join().token
    async with yclient(event.ws_url(event.plenary, token)) as client:
        assert client.doc.get("meta", type=Map)["kind"] == "plenary"


async def test_with_open_rooms_any_room_works_without_a_token(make_server: Any) -> None:
    server = make_server()  # --open-rooms
    async with yclient(server.ws_url("anything-goes")) as client:
        await client.edit(k="v")
        await client.wait_for(lambda: client.confirmed_notes() == {"k": "v"})
    assert server.get("/api/rooms/anything-goes/board")["seq"] == 1


async def test_with_open_rooms_event_rooms_still_need_a_token(make_server: Any) -> None:
    server = make_server()  # --open-rooms
    event = create_event(server)
    code, _ = await close_code_of(event.ws_url(event.breakouts[0], None))
    assert code == WS_4401_UNAUTHORIZED
