"""Creating events and rooms, joining with a code, and deciding who may open which room."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from candor.board.initial import initial_board
from candor.board.templates import builtin_templates, template_to_json, validate_template
from candor.errors import (
    BadRequest,
    EventNotFound,
    Forbidden,
    LogConflict,
    RoomNotFound,
    Unauthorized,
    WrongJoinCode,
)
from candor.ids import OPEN_ACCESS, Access, PeerId, Role, RoomId, Seq, is_event_room
from candor.log.base import Entry
from candor.log.redaction import PurgeableLog
from candor.workshops.reveal import split_drafts_room
from candor.workshops.store import EventRecord, EventStore, RoomRecord
from candor.workshops.tokens import DEFAULT_LIFETIME_S, Claims, TokenSigner

# Join codes are read aloud and typed on phones: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MAX_ROOMS = 200
SERVER_ORIGIN = PeerId("server")


@dataclass(frozen=True, slots=True)
class RoomAccess:
    """The outcome of authorising a websocket: who is connecting, and whether the room is a board."""

    access: Access
    gated: bool


async def is_board_room(store: EventStore, room_id: str) -> bool:
    """Whether ``room_id`` is a board of an event (or a participant's drafts of one), not a free-form room."""
    drafts = split_drafts_room(room_id)
    return await store.room(drafts[0] if drafts is not None else room_id) is not None


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _now_ms() -> int:
    return int(time.time() * 1000)


class EventService:
    def __init__(self, store: EventStore, log: PurgeableLog, signer: TokenSigner, open_rooms: bool) -> None:
        self.store = store
        self.log = log
        self.signer = signer
        self.open_rooms = open_rooms

    # -- creating ------------------------------------------------------------

    def resolve_template(self, template: object) -> dict[str, Any]:
        """A built-in template by id, or a facilitator's own template as JSON (validated)."""
        if isinstance(template, str):
            found = builtin_templates().get(template)
            if found is None:
                known = ", ".join(builtin_templates())
                raise BadRequest(f"unknown template {template!r}; choose one of {known}, or send your own as JSON")
            return template_to_json(found)
        return template_to_json(validate_template(template))

    async def create_event(self, title: str, template: object, room_count: int) -> tuple[EventRecord, list[RoomRecord]]:
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            raise BadRequest("title must be 1-200 characters")
        if not isinstance(room_count, int) or isinstance(room_count, bool) or not 0 <= room_count <= MAX_ROOMS:
            raise BadRequest(f"rooms must be a whole number from 0 to {MAX_ROOMS}")
        template_json = self.resolve_template(template)
        event_id = "ev" + secrets.token_hex(4)
        event = EventRecord(event_id, title.strip(), template_json, _now_ms(), new_join_code(), 0)
        rooms = [RoomRecord(f"{event_id}-r{n}", event_id, "breakout", f"Room {n}", n) for n in range(1, room_count + 1)]
        rooms.append(RoomRecord(f"{event_id}-plenary", event_id, "plenary", "Plenary", 0))
        await self.store.create(event, rooms)
        for room in rooms:
            await self._initialise(event, room)
        return event, await self.store.rooms(event_id)

    async def _initialise(self, event: EventRecord, room: RoomRecord, name: str | None = None) -> None:
        """Write the template into the room's log as its first record, exactly once."""
        update = initial_board(event.template, event_id=event.id, kind=room.kind)
        try:
            await self.log.append(
                RoomId(name or room.id), [Entry(_now_ms(), SERVER_ORIGIN, update)], expect_head=Seq(0)
            )
        except LogConflict:
            pass  # already initialised: the log keeps the first

    async def add_room(self, event_id: str, label: str | None) -> RoomRecord:
        event = await self.require_event(event_id)
        rooms = await self.store.rooms(event_id)
        if len(rooms) > MAX_ROOMS:
            raise BadRequest(f"an event has at most {MAX_ROOMS} rooms")
        number = max((r.position for r in rooms), default=0) + 1
        room = RoomRecord(f"{event_id}-r{number}", event_id, "breakout", label or f"Room {number}", number)
        await self.store.add_room(room)
        await self._initialise(event, room)
        return room

    # -- tokens --------------------------------------------------------------

    def issue(self, event: EventRecord, role: Role, subject: str, name: str | None = None) -> str:
        expires_at = int(time.time()) + DEFAULT_LIFETIME_S
        claims = Claims(event.id, role, subject, expires_at, name, None, event.epoch, event.created_ms)
        return self.signer.issue(claims)

    @staticmethod
    def check_code(event: EventRecord, code: object) -> None:
        """WrongJoinCode unless ``code`` is the event's join code (case and surrounding spaces aside)."""
        given = code.strip().upper().encode("utf-8", "surrogatepass") if isinstance(code, str) else b""
        if not secrets.compare_digest(given, event.join_code.encode()):
            raise WrongJoinCode("that join code is not valid for this event")

    async def join(self, event_id: str, code: object, agree: object, name: object) -> tuple[EventRecord, str, str]:
        """A participant token for someone who knows the code and accepted the agreement."""
        event = await self.require_event(event_id)
        self.check_code(event, code)
        if event.template.get("agreement") and agree is not True:
            raise Forbidden("to join, you must accept the group's agreement")
        if name is not None and not (isinstance(name, str) and 0 < len(name.strip()) <= 80):
            raise BadRequest("name must be 1-80 characters, or left out")
        subject = "u-" + secrets.token_urlsafe(8)
        clean_name = name.strip() if isinstance(name, str) else None
        return event, subject, self.issue(event, Role.PARTICIPANT, subject, clean_name)

    async def revoke(self, event_id: str) -> EventRecord:
        """A new join code, and a new epoch: every participant token issued before stops working."""
        await self.require_event(event_id)
        await self.store.bump_epoch(event_id, new_join_code())
        return await self.require_event(event_id)

    async def require_event(self, event_id: str) -> EventRecord:
        event = await self.store.event(event_id)
        if event is None:
            raise EventNotFound(f"no event {event_id!r}")
        return event

    async def authenticate(self, token: str | None, event_id: str) -> Claims:
        """Claims of a valid, unrevoked token for ``event_id``."""
        if not token:
            raise Unauthorized("this needs a token: use the link the facilitator shared")
        claims = self.signer.verify(token)
        if claims.event != event_id:
            raise Forbidden("this token belongs to another event")
        event = await self.require_event(event_id)
        if claims.made_ms is not None and claims.made_ms != event.created_ms:
            raise Unauthorized("this link belongs to an event that was erased")
        if claims.role is not Role.FACILITATOR and claims.epoch != event.epoch:
            raise Unauthorized("this link was revoked by the facilitator; ask for a new one")
        return claims

    async def authorize_room(self, room_id: str, token: str | None) -> RoomAccess:
        drafts = split_drafts_room(room_id)
        if drafts is not None:
            return await self._authorize_drafts(room_id, *drafts, token)
        room = await self.store.room(room_id)
        if room is None:
            if self.open_rooms and not is_event_room(room_id):
                return RoomAccess(OPEN_ACCESS, gated=False)
            raise RoomNotFound(f"no room {room_id!r}; rooms belong to events (or run the server with --open-rooms)")
        claims = await self.authenticate(token, room.event_id)
        if claims.room is not None and claims.room != room_id:
            raise Forbidden("this token is for another room")
        return RoomAccess(claims.access, gated=True)

    async def _authorize_drafts(self, name: str, room_id: str, owner: str, token: str | None) -> RoomAccess:
        """A participant's private drafts: their author and the facilitators only."""
        room = await self.store.room(room_id)
        if room is None:
            raise RoomNotFound(f"no room {room_id!r}")
        claims = await self.authenticate(token, room.event_id)
        if claims.role is Role.VIEWER or (claims.role is Role.PARTICIPANT and claims.subject != owner):
            raise Forbidden("private notes can be opened only by their author and the facilitator")
        if await self.log.head(RoomId(name)) == 0:
            await self._initialise(await self.require_event(room.event_id), room, name)
        return RoomAccess(claims.access, gated=True)
