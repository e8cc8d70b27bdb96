"""HTTP API of the facilitator's console: room figures with drafts counted, top ideas, sending them to the plenary."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from candor.errors import BadRequest
from candor.http.board_reads import board_now
from candor.http.events_api import reach_json, require, service_of
from candor.ids import Role
from candor.workshops import console

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
