"""HTTP API for events: templates, creating an event, joining it, and managing its rooms."""

from __future__ import annotations

import contextlib
import hmac
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse

from candor.board import model
from candor.board.edits import set_meta
from candor.board.templates import builtin_templates, template_to_json
from candor.errors import (
    BadRequest,
    CreateTokenRequired,
    EventNotFound,
    Forbidden,
    RoomNotFound,
    UnknownJoinCode,
    WrongJoinCode,
)
from candor.http.board_reads import board_now, drafts_of
from candor.http.inputs import json_body, query_text, token_of
from candor.http.services import services
from candor.ids import Access, Role, RoomId, Seq
from candor.reach import OPEN_TO_ROOM, is_loopback
from candor.workshops import console
from candor.workshops.plenary import to_plenary
from candor.workshops.purge import purge_withdrawn
from candor.workshops.retention import retention_notice
from candor.workshops.service import EventService
from candor.workshops.store import EventRecord, RoomRecord


def service_of(request: Request) -> EventService:
    return services(request).events


def _base(request: Request) -> tuple[str, str]:
    """The address links carry: --public-url, else the one this request came to unless that is
    loopback (a phone cannot open 127.0.0.1), else the LAN address the server listens on."""
    settings = services(request).settings
    own = str(request.base_url).rstrip("/")
    http = settings.public_url or (settings.lan_url if is_loopback(request.url.hostname or "") else None) or own
    ws = http.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    return http, ws


def reach_json(request: Request) -> dict[str, Any]:
    """Whether the links reach other devices; when not, the command that opens the server to the room."""
    http, _ = _base(request)
    local = is_loopback(urlsplit(http).hostname or "")
    return {"base_url": http, "loopback_only": local, "open_command": OPEN_TO_ROOM if local else None}


def room_json(request: Request, room: RoomRecord) -> dict[str, Any]:
    _, ws = _base(request)
    return {"id": room.id, "label": room.label, "kind": room.kind, "ws_url": f"{ws}/ws/{room.id}"}


async def list_templates(request: Request) -> JSONResponse:
    return JSONResponse({"templates": [template_to_json(t) for t in builtin_templates().values()]})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _check_create_token(request: Request) -> None:
    """With ``--create-token``, creating an event needs it as a bearer token (or ``?token=``)."""
    expected = services(request).settings.create_token
    if expected is None:
        return
    given = token_of(request)
    if given is None or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CreateTokenRequired(
            "creating an event on this server needs its creation token; ask whoever runs the server"
            if given is None
            else "that creation token is not this server's"
        )


async def create_event(request: Request) -> JSONResponse:
    body = await json_body(request)
    _check_create_token(request)
    limit = services(request).create_limit
    if limit is not None:
        limit.take(client_address(request), "creating events")
    service = service_of(request)
    title = body.get("title")
    template = body.get("template", "beyond-hero-stories")
    rooms_count = body.get("rooms", 3)
    event, rooms = await service.create_event(title, template, rooms_count)  # type: ignore[arg-type]
    http, _ = _base(request)
    facilitator = service.issue(event, Role.FACILITATOR, "facilitator")
    return JSONResponse(
        {
            "event_id": event.id,
            "title": event.title,
            "template": event.template["id"],
            **_share_links(request, service, event, rooms),
            "facilitator_token": facilitator,
            "facilitator_url": f"{http}/event/{event.id}?token={facilitator}",
            "rooms": [room_json(request, r) for r in rooms],
        },
        status_code=201,
    )


def _public_event(request: Request, event: EventRecord) -> dict[str, Any]:
    """What anyone holding the code sees; the retention, if any, is the agreement's last item."""
    template = event.template
    notice = retention_notice(services(request).settings.retain_days)
    agreement = template.get("agreement")
    if notice is not None and isinstance(agreement, dict):
        agreement = {**agreement, "items": [*agreement.get("items", []), notice]}
    return {
        "event_id": event.id,
        "title": event.title,
        "template": template["id"],
        "agreement": agreement,
        "retention": notice,
    }


@contextlib.contextmanager
def join_attempt(request: Request) -> Iterator[None]:
    """Refuse a banned address at once; count the attempt against it if its code opens no event."""
    throttle = services(request).join_throttle
    address = client_address(request)
    throttle.check(address)
    try:
        yield
    except (EventNotFound, WrongJoinCode):  # a wrong event id, a wrong code, or a code no event has
        throttle.failed(address)
        raise


async def join_info(request: Request) -> JSONResponse:
    """What someone holding the code sees before joining: the title and the agreement to accept."""
    service = service_of(request)
    code = query_text(request, "code") or ""
    with join_attempt(request):
        event = await service.require_event(request.path_params["event_id"])
        service.check_code(event, code)
    return JSONResponse(_public_event(request, event))


async def join_event(request: Request) -> JSONResponse:
    body = await json_body(request)
    service = service_of(request)
    with join_attempt(request):
        event, subject, token = await service.join(
            request.path_params["event_id"], body.get("code"), body.get("agree"), body.get("name")
        )
    rooms = await service.store.rooms(event.id)
    return JSONResponse(
        {
            **_public_event(request, event),
            "token": token,
            "participant": subject,
            "rooms": [room_json(request, r) for r in rooms],
        }
    )


async def require(request: Request, event_id: str, *roles: Role) -> EventRecord:
    service = service_of(request)
    claims = await service.authenticate(token_of(request), event_id)
    if claims.role not in roles:
        raise Forbidden(f"this needs a {' or '.join(r.value for r in roles)} token")
    return await service.require_event(event_id)


async def get_event(request: Request) -> JSONResponse:
    """The event and its rooms; a facilitator also gets the links to share (join, projector)."""
    event_id = request.path_params["event_id"]
    service = service_of(request)
    claims = await service.authenticate(token_of(request), event_id)
    event = await service.require_event(event_id)
    rooms = await service.store.rooms(event_id)
    body = {**_public_event(request, event), "rooms": [room_json(request, r) for r in rooms]}
    if claims.role is Role.FACILITATOR:
        body.update(_share_links(request, service, event, rooms))
    return JSONResponse(body)


def _share_links(
    request: Request, service: EventService, event: EventRecord, rooms: list[RoomRecord]
) -> dict[str, Any]:
    """The join link and a projector link, as the facilitator shares them."""
    http, _ = _base(request)
    viewer = service.issue(event, Role.VIEWER, "viewer")
    return {
        "join_code": event.join_code,
        "join_url": f"{http}/join/{event.id}?code={event.join_code}",
        "viewer_token": viewer,
        "viewer_url": f"{http}/board/{rooms[0].id}?token={viewer}",
        "reach": reach_json(request),
    }


async def find_by_code(request: Request) -> JSONResponse:
    """The event a six-letter join code belongs to, so people need type only the code read aloud."""
    code = request.path_params["code"].strip().upper()
    with join_attempt(request):
        event_id = await service_of(request).store.event_by_code(code[:64])
        if event_id is None:
            raise UnknownJoinCode("no event has that join code; check the letters with the facilitator")
    event = await service_of(request).require_event(event_id)
    return JSONResponse(_public_event(request, event))


async def erase_event(request: Request) -> JSONResponse:
    """Erase the event and everything written in it, everywhere in storage (facilitator)."""
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    eraser = services(request).eraser
    erased = await eraser.erase(event_id)
    return JSONResponse({"event_id": erased.event_id, "erased": True, "rooms_erased": erased.rooms})


async def revoke(request: Request) -> JSONResponse:
    """New join code; every participant token of the event stops working; connected participants leave."""
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    service = service_of(request)
    event = await service.revoke(event_id)
    controls = services(request).controls
    closed = await controls.revoke(event_id)  # on every process serving boards
    http, _ = _base(request)
    return JSONResponse(
        {
            "event_id": event_id,
            "join_code": event.join_code,
            "join_url": f"{http}/join/{event.id}?code={event.join_code}",
            "participants_closed": closed,
        }
    )


async def room_figures(request: Request, room: RoomRecord, all_rooms: list[RoomId] | None = None) -> dict[str, Any]:
    """People present, phase, timer, notes and private drafts per section, and last activity of one room."""
    registry = services(request).registry
    service = service_of(request)
    room_id = RoomId(room.id)
    live = registry.rooms.get(room_id)
    figures = room_json(request, room)
    if live is not None:
        figures["present"] = len(live.peers)
        figures["last_activity_ms"] = int(live.last_activity * 1000)
    else:
        head = await service.log.head(room_id)
        last = await service.log.read(room_id, after=Seq(head - 1), upto=head) if head else []
        figures["present"] = 0
        figures["last_activity_ms"] = last[-1].time_ms if last else None
    board = await board_now(request, room.id)
    figures.update(console.board_figures(board, await service.log.purged_notes(room_id)))
    collecting = figures["phase"] == "collect"
    rooms = all_rooms if all_rooms is not None else await service.log.rooms()
    figures.update(await drafts_of(request, room.id, rooms) if collecting else console.drafts_figures([]))
    return figures


async def list_rooms(request: Request) -> JSONResponse:
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    rooms = await service_of(request).store.rooms(event_id)
    logged = await service_of(request).log.rooms()
    return JSONResponse({"event_id": event_id, "rooms": [await room_figures(request, r, logged) for r in rooms]})


async def add_room(request: Request) -> JSONResponse:
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    body = await json_body(request)
    label = body.get("label")
    if label is not None and not (isinstance(label, str) and 0 < len(label.strip()) <= 80):
        raise BadRequest("label must be 1-80 characters")
    room = await service_of(request).add_room(event_id, label.strip() if label else None)
    return JSONResponse(room_json(request, room), status_code=201)


async def rename_room(request: Request) -> JSONResponse:
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    body = await json_body(request)
    label = body.get("label")
    if not (isinstance(label, str) and 0 < len(label.strip()) <= 80):
        raise BadRequest("label must be 1-80 characters")
    service = service_of(request)
    room = await service.store.room(request.path_params["room_id"])
    if room is None or room.event_id != event_id:
        raise RoomNotFound(f"event {event_id!r} has no room {request.path_params['room_id']!r}")
    await service.store.rename_room(room.id, label.strip())
    renamed = await service.store.room(room.id)
    assert renamed is not None
    return JSONResponse(room_json(request, renamed))


async def purge(request: Request) -> JSONResponse:
    """Overwrite the text of the room's withdrawn notes everywhere in storage (facilitator)."""
    service = service_of(request)
    room = await service.store.room(request.path_params["room"])
    if room is None:
        raise RoomNotFound(f"no room {request.path_params['room']!r} in any event")
    await require(request, room.event_id, Role.FACILITATOR)
    result = await purge_withdrawn(service.log, services(request).controls, RoomId(room.id))
    return JSONResponse({"room": result.room, "purged": result.notes, "rewritten": result.rewritten})


async def plenary(request: Request) -> JSONResponse:
    """Copy (or move) notes of breakout rooms to the event's plenary, made by the server (facilitator).

    Body: ``{"notes": [{"room", "note"}], "move": false}``.
    """
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    body = await json_body(request)
    rooms = {room.id: room for room in await service_of(request).store.rooms(event_id)}
    target = next((room.id for room in rooms.values() if room.kind == "plenary"), None)
    if target is None:
        raise BadRequest("this event has no plenary")
    wanted = body.get("notes")
    if not isinstance(wanted, list) or not all(
        isinstance(item, dict) and isinstance(item.get("room"), str) and isinstance(item.get("note"), str)
        for item in wanted
    ):
        raise BadRequest('notes must be a list of {"room", "note"}')
    for item in wanted:
        if item["room"] not in rooms:
            raise RoomNotFound(f"event {event_id!r} has no room {item['room'][:128]!r}")
    move = body.get("move", False)
    if not isinstance(move, bool):
        raise BadRequest("move must be true or false")
    sources = [(RoomId(item["room"]), item["note"]) for item in wanted]
    sent = await to_plenary(service_of(request).log, services(request).registry, RoomId(target), sources, move=move)
    copied = [{"room": c.room, "note": c.note, "copy": c.copy} for c in sent.copied]
    return JSONResponse({"plenary": target, "copied": copied, "skipped": sent.skipped})


async def broadcast(request: Request) -> JSONResponse:
    """Set phase, lock or timer on every room of the event at once (facilitator)."""
    event_id = request.path_params["event_id"]
    await require(request, event_id, Role.FACILITATOR)
    body = await json_body(request)
    fields = settings_change(body)
    registry = services(request).registry
    results = []
    for room in await service_of(request).store.rooms(event_id):
        seq = await registry.submit(RoomId(room.id), set_meta(fields), FACILITATOR_ACCESS)
        results.append({"id": room.id, "seq": seq})
    return JSONResponse({"event_id": event_id, "changed": sorted(fields), "rooms": results})


FACILITATOR_ACCESS = Access(Role.FACILITATOR, "facilitator")


def settings_change(body: dict[str, Any]) -> dict[str, Any]:
    """The meta fields a broadcast sets: ``phase``, ``locked`` and ``timer`` ({duration_s} or null)."""
    fields: dict[str, Any] = {}
    if "phase" in body:
        if body["phase"] not in model.PHASES:
            raise BadRequest(f"phase must be one of {', '.join(model.PHASES)}")
        fields["phase"] = body["phase"]
    if "locked" in body:
        if not isinstance(body["locked"], bool):
            raise BadRequest("locked must be true or false")
        fields["locked"] = body["locked"]
    if "timer" in body:
        timer = body["timer"]
        if timer is None:
            fields["timer"] = None
        else:
            duration = timer.get("duration_s") if isinstance(timer, dict) else None
            if not isinstance(duration, int) or isinstance(duration, bool) or not 0 < duration <= 24 * 3600:
                raise BadRequest("timer must be null or {duration_s: 1-86400}")
            fields["timer"] = {"duration_s": duration, "ends_at_ms": int(time.time() * 1000) + duration * 1000}
    if not fields:
        raise BadRequest("give at least one of phase, locked, timer")
    return fields
