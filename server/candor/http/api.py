"""HTTP API: health and board read-out (as it stands now or at any past point)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from candor.board.projection import board_to_json
from candor.errors import BadRoomName, CandorError, InvalidTemplate, RoomNotFound
from candor.history.rebuild import parse_point, rebuild, resolve_seq
from candor.http.common import token_of
from candor.ids import RoomId, is_valid_room_id
from candor.log.base import EventLog


def error_response(error: CandorError) -> JSONResponse:
    """The one error shape of the API: ``{"error": {"code", "message"}}`` (plus ``problems`` for templates)."""
    body: dict[str, object] = {"code": error.code, "message": error.message}
    if isinstance(error, InvalidTemplate):
        body["problems"] = error.problems
    return JSONResponse({"error": body}, status_code=error.http_status)


async def healthz(request: Request) -> JSONResponse:
    registry = request.app.state.registry
    return JSONResponse({"status": "ok", "rooms_loaded": len(registry.rooms), "room_loads": registry.loads})


async def board_at(log: EventLog, room: RoomId, at: str | None, *, board: bool = True) -> dict[str, object]:
    """The board JSON of ``room`` after the record ``at`` names (now when None); ``board``: an event's room."""
    seq = await resolve_seq(log, room, parse_point(at) if at else None)
    rebuilt = await rebuild(log, room, seq, board=board)
    return {
        "room": room,
        "seq": rebuilt.seq,
        "snapshot_seq": rebuilt.snapshot_seq,
        "board": board_to_json(rebuilt.doc),
    }


async def get_board(request: Request) -> JSONResponse:
    name = request.path_params["room"]
    if not is_valid_room_id(name):
        raise BadRoomName(f"{name!r} is not a valid room name")
    # Event rooms need a token of their event; free-form rooms (--open-rooms) do not.
    grant = await request.app.state.events.authorize_room(name, token_of(request))
    log: EventLog = request.app.state.log
    room = RoomId(name)
    if await log.head(room) == 0:
        raise RoomNotFound(f"room {name!r} has no recorded changes")
    return JSONResponse(await board_at(log, room, request.query_params.get("at"), board=grant.gated))
