"""A room's board as it stands, for the HTTP handlers that report on it (console figures, ideas)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from candor.board.projection import board_to_json
from candor.history.rebuild import rebuild
from candor.http.services import services
from candor.ids import RoomId
from candor.workshops import console
from candor.workshops.reveal import DRAFTS_SEPARATOR


async def board_now(request: Request, room_id: str) -> dict[str, Any]:
    """From memory when the room is loaded, else rebuilt from its snapshot and log."""
    registry = services(request).registry
    board = await registry.read(RoomId(room_id), board_to_json)
    if board is not None:
        return board
    log = services(request).log
    head = await log.head(RoomId(room_id))
    return board_to_json((await rebuild(log, RoomId(room_id), head)).doc)


async def drafts_of(request: Request, room_id: str, logged: list[RoomId]) -> dict[str, Any]:
    """Counts of the private drafts written for ``room_id`` and not yet revealed (never their text)."""
    prefix = room_id + DRAFTS_SEPARATOR
    return console.drafts_figures([await board_now(request, r) for r in logged if r.startswith(prefix)])
