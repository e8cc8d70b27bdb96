"""Typed identifiers shared by every layer; imports nothing from the package."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import NewType

RoomId = NewType("RoomId", str)
Seq = NewType("Seq", int)
PeerId = NewType("PeerId", str)

ROOM_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,127}")
# Rooms of events are named "ev" + 8 hex digits + "-..." (a participant's drafts room too: "{room}~{subject}").
# Such a name is never a free-form room, so an erased event's rooms are not brought back by --open-rooms
# when a participant's client reconnects, and the name alone says whether a room is a board.
EVENT_ROOM = re.compile(r"ev[0-9a-f]{8}-")


def is_valid_room_id(name: str) -> bool:
    """A room name is 1-128 URL-safe characters that start with a letter or digit."""
    return ROOM_ID_PATTERN.fullmatch(name) is not None


def is_event_room(name: str) -> bool:
    """Whether ``name`` is a room of an event (a board, or drafts for one), never a free-form room."""
    return EVENT_ROOM.match(name) is not None


class Role(Enum):
    FACILITATOR = "facilitator"
    PARTICIPANT = "participant"
    VIEWER = "viewer"
    # The server's own changes (publishing drafts, copying to the plenary): never in a token.
    SERVER = "server"


@dataclass(frozen=True, slots=True)
class Access:
    """Who a connection speaks for: a role, a pseudonym (``subject``) and a name they chose."""

    role: Role
    subject: str
    name: str | None = None
    event: str | None = None

    @property
    def can_write(self) -> bool:
        return self.role is not Role.VIEWER


# What the server writes on its own authority: it may carry notes with their authors' authorship.
SERVER_ACCESS = Access(Role.SERVER, "server")

# Connections to free-form rooms (``--open-rooms``) act as an anonymous participant.
OPEN_ACCESS = Access(Role.PARTICIPANT, "open")
