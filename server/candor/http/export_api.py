"""HTTP API for exports (a room or a whole event as md, html, pptx, json or pdf), a room's timeline, and the
event details an export shows (who ran it, where, when, how many took part).

All need the facilitator token of the room's event: exports hold every note
the audience may see, and the timeline shows who changed what when. Free-form
rooms (``--open-rooms``) have no event and no tokens; anyone who may edit
them may read them. Drafts rooms are never exported.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from candor.errors import BadRoomName, Forbidden, RoomNotFound
from candor.export.formats import Format, export_filename, format_named
from candor.export.gather import EVENT_AUDIENCES, EventInfo, gather_event, gather_room
from candor.export.model import Audience, Export, RoomInfo, parse_audience
from candor.history.timeline import DEFAULT_LIMIT, MAX_LIMIT, timeline
from candor.http.events_api import require, service_of
from candor.http.inputs import json_body, query_text, query_whole
from candor.http.services import services
from candor.ids import Role, RoomId, Seq, is_valid_room_id
from candor.workshops.details import details_to_json, parse_details, stored_details
from candor.workshops.reveal import split_drafts_room
from candor.workshops.service import EventService
from candor.workshops.store import EventRecord

ROOM_AUDIENCES: tuple[Audience, ...] = ("room", "public")


async def event_info(service: EventService, event: EventRecord) -> EventInfo:
    details = stored_details(await service.store.details(event.id))
    return EventInfo(event.id, event.title, event.template, details, event.created_ms)


async def _room_of(request: Request) -> tuple[RoomInfo, EventInfo | None, dict[str, str]]:
    """The room named in the path, once the caller is shown to be its event's facilitator."""
    name = request.path_params["room"]
    if not is_valid_room_id(name):
        raise BadRoomName(f"{name!r} is not a valid room name")
    if split_drafts_room(name) is not None:
        raise Forbidden("private drafts are never exported; export the board they belong to")
    service = service_of(request)
    room = await service.store.room(name)
    if room is None:
        if not service.open_rooms:
            raise RoomNotFound(f"no room {name!r}")
        return RoomInfo(name, name), None, {}
    event = await require(request, room.event_id, Role.FACILITATOR)
    labels = {r.id: r.label for r in await service.store.rooms(event.id)}
    return RoomInfo(room.id, room.label, room.kind), await event_info(service, event), labels


async def _file(export: Export, fmt: Format) -> Response:
    # Rendering a large deck takes CPU time: keep it off the event loop.
    body = await asyncio.to_thread(fmt.render, export)
    return Response(
        body,
        media_type=fmt.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export_filename(export, fmt)}"',
            "Cache-Control": "no-store",
        },
    )


async def export_room(request: Request) -> Response:
    """GET /api/rooms/{room}/export?format=md|html|pptx|json|pdf&at=SEQ|TIME|end-of-PHASE&audience=room|public"""
    fmt = format_named(query_text(request, "format"))
    audience = parse_audience(query_text(request, "audience"), ROOM_AUDIENCES)
    at = query_text(request, "at") or None
    info, event, labels = await _room_of(request)
    log = services(request).log
    export = await gather_room(log, info, audience, at, event=event, room_labels=labels)
    return await _file(export, fmt)


async def export_event(request: Request) -> Response:
    """GET /api/events/{event_id}/export?format=…&at=TIME|end-of-PHASE&audience=event|public: one part per theme"""
    fmt = format_named(query_text(request, "format"))
    audience = parse_audience(query_text(request, "audience"), EVENT_AUDIENCES)
    event_id = request.path_params["event_id"]
    event = await require(request, event_id, Role.FACILITATOR)
    service = service_of(request)
    rooms = [RoomInfo(r.id, r.label, r.kind) for r in await service.store.rooms(event_id)]
    log = services(request).log
    at = query_text(request, "at") or None
    export = await gather_event(log, await event_info(service, event), rooms, audience, at)
    return await _file(export, fmt)


async def get_details(request: Request) -> JSONResponse:
    """GET /api/events/{event_id}/details: what the facilitator filled in for the exports."""
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    details = stored_details(await service_of(request).store.details(event_id))
    return JSONResponse({"event_id": event_id, "details": details_to_json(details)})


async def put_details(request: Request) -> JSONResponse:
    """PUT /api/events/{event_id}/details: replace them all (schemas/event-details.schema.json)."""
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    details = parse_details(await json_body(request))
    stored = details_to_json(details)
    await service_of(request).store.set_details(event_id, stored)
    return JSONResponse({"event_id": event_id, "details": stored})


async def room_history(request: Request) -> JSONResponse:
    """GET /api/rooms/{room}/history?after=SEQ&limit=N: what happened, a page at a time."""
    after = query_whole(request, "after", 0, 0, 2**62)
    limit = query_whole(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    info, _, _ = await _room_of(request)
    log = services(request).log
    room = RoomId(info.id)
    if await log.head(room) == 0:
        raise RoomNotFound(f"room {info.id!r} has no recorded changes")
    page = await timeline(log, room, Seq(after), limit)
    return JSONResponse({"room": info.id, "events": page.events, "next": page.next})
