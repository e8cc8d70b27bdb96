"""HTTP API of the facilitator's console: room figures with drafts counted, top ideas, sending them to the plenary."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from candor.board import model
from candor.errors import BadRequest, RoomNotFound
from candor.events import console
from candor.http.board_reads import board_now
from candor.http.common import json_body
from candor.http.events_api import FACILITATOR_ACCESS, reach_json, require, service_of
from candor.ids import Role, RoomId
from candor.rooms.registry import RoomRegistry

MAX_IDEAS_PER_ROOM = 20
MAX_SENT = 200


async def reach(request: Request) -> JSONResponse:
    """Whether the links this server makes reach other devices, for the start page to warn when not."""
    return JSONResponse(reach_json(request))


async def ideas(request: Request) -> JSONResponse:
    """Per breakout room, the notes shared beyond it, most votes first (facilitator)."""
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    raw = request.query_params.get("per_room", "5")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_IDEAS_PER_ROOM:
        raise BadRequest(f"per_room must be a whole number from 1 to {MAX_IDEAS_PER_ROOM}")
    rooms = await service_of(request).store.rooms(event_id)
    body = []
    for room in rooms:
        if room.kind == "plenary":
            continue
        board = await board_now(request, room.id)
        body.append({"id": room.id, "label": room.label, "ideas": console.top_ideas(board, int(raw))})
    return JSONResponse({"event_id": event_id, "rooms": body})


def _chosen(body: dict[str, Any], breakouts: set[str]) -> dict[str, list[str]]:
    notes = body.get("notes")
    if not isinstance(notes, list) or not 0 < len(notes) <= MAX_SENT:
        raise BadRequest(f"notes must be a list of 1-{MAX_SENT} {{room, note}} pairs")
    chosen: dict[str, list[str]] = {}
    for item in notes:
        room, note = (item.get("room"), item.get("note")) if isinstance(item, dict) else (None, None)
        if not (isinstance(room, str) and isinstance(note, str) and 0 < len(note) <= 128):
            raise BadRequest("each entry of notes must be {room, note}, both text")
        if room not in breakouts:
            raise RoomNotFound(f"this event has no breakout room {room!r}")
        chosen.setdefault(room, []).append(note)
    return chosen


async def send_to_plenary(request: Request) -> JSONResponse:
    """Copy the chosen notes of breakout rooms onto the plenary with their votes and the room they
    came from (facilitator). Sending a note again changes nothing: its copy is already there."""
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    body = await json_body(request)
    rooms = await service_of(request).store.rooms(event_id)
    plenary = next((r for r in rooms if r.kind == "plenary"), None)
    if plenary is None:
        raise RoomNotFound("this event has no plenary board")
    chosen = _chosen(body, {r.id for r in rooms if r.kind != "plenary"})
    registry: RoomRegistry = request.app.state.registry
    target = await board_now(request, plenary.id)
    sections = {s["id"] for s in target.get(model.SECTIONS) or [] if isinstance(s, dict) and "id" in s}
    sent: list[dict[str, str]] = []
    for room, note_ids in chosen.items():
        copies = console.plenary_copies(room, await board_now(request, room), note_ids, sections)
        if not copies:
            continue
        await registry.submit(RoomId(plenary.id), console.adding_notes(copies), FACILITATOR_ACCESS)
        await registry.submit(RoomId(plenary.id), console.carrying_votes(room, copies), FACILITATOR_ACCESS)
        sent += [{"room": room, "note": plenary_id.split(".", 1)[1], "copy": plenary_id} for plenary_id in copies]
    asked = sum(len(ids) for ids in chosen.values())
    return JSONResponse({"plenary": plenary.id, "sent": sent, "skipped": asked - len(sent)})
