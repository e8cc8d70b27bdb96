"""HTTP API: health, what the server asks of its users, and board read-out (now or at any past point)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from candor.board.projection import board_to_json
from candor.errors import BadRoomName, CandorError, InvalidTemplate, RoomNotFound, TooManyRequests
from candor.history.rebuild import PointInTime, parse_point, rebuild, resolve_seq
from candor.http.inputs import query_point, token_of
from candor.http.services import services
from candor.ids import RoomId, is_event_room, is_valid_room_id
from candor.log.snapshots import SnapshottedLog
from candor.workshops.retention import retention_notice


def error_response(error: CandorError) -> JSONResponse:
    """The one error shape of the API: ``{"error": {"code", "message"}}`` (plus ``problems`` for templates)."""
    body: dict[str, object] = {"code": error.code, "message": error.message}
    if isinstance(error, InvalidTemplate):
        body["problems"] = error.problems
    headers = {"Retry-After": str(error.retry_after_s)} if isinstance(error, TooManyRequests) else None
    return JSONResponse({"error": body}, status_code=error.http_status, headers=headers)


async def healthz(request: Request) -> JSONResponse:
    registry = services(request).registry
    return JSONResponse({"status": "ok", "rooms_loaded": len(registry.rooms), "room_loads": registry.loads})


async def server_info(request: Request) -> JSONResponse:
    """What the start page must know: whether creating an event needs a token, and how long boards are kept."""
    settings = services(request).settings
    return JSONResponse(
        {
            "create_token_required": settings.create_token is not None,
            "retain_days": settings.retain_days,
            "retention": retention_notice(settings.retain_days),
        }
    )


async def board_at(
    log: SnapshottedLog, room: RoomId, at: str | PointInTime | None, *, board: bool = True
) -> dict[str, object]:
    """The board JSON of ``room`` after the record ``at`` names (now when None); ``board``: an event's room."""
    point = (parse_point(at) if at else None) if isinstance(at, str) else at
    seq = await resolve_seq(log, room, point)
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
    await services(request).events.authorize_room(name, token_of(request))
    log = services(request).log
    room = RoomId(name)
    if await log.head(room) == 0:
        raise RoomNotFound(f"room {name!r} has no recorded changes")
    _, point = query_point(request)
    # Read as its websocket serves it: an event's room as a board, any other free-form (the name tells which).
    return JSONResponse(await board_at(log, room, point, board=is_event_room(name)))
