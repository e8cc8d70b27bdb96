"""Controls that change who may see or write what, carried to every process that serves boards.

Two kinds: holding rooms (their connections closed, the rooms unloaded and
kept so while storage is rewritten: a purge, an erasure) and revoking an
event's participants (their connections closed, wherever they are). With one
process (SQLite) they act on this process; with several (Redis) the Redis
controls carry them to every process and wait for their answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from candor.errors import CandorError, RoomClosing, RoomNotFound, Unauthorized
from candor.ids import Role, RoomId
from candor.rooms.registry import RoomRegistry
from candor.workshops.reveal import split_drafts_room

ERASED_REASON = "the facilitator erased this event: its boards no longer exist"
PURGING_REASON = "the facilitator is purging withdrawn notes; reconnect in a moment"
REVOKED_REASON = "the facilitator revoked participant access; ask for the new join code"

# Why rooms are held, and what their connections are told.
HOLD_REASONS: dict[str, Callable[[], CandorError]] = {
    "erase": lambda: RoomNotFound(ERASED_REASON),
    "purge": lambda: RoomClosing(PURGING_REASON),
}

# Close these rooms' connections (drafts rooms' too) and keep the rooms unloaded on this process while
# the block runs; the second argument is one of HOLD_REASONS.
Hold = Callable[[Sequence[str], str], AbstractAsyncContextManager[None]]
# Close this process's connections of an event's participants; how many were closed.
Revoke = Callable[[str], int]


class RoomControls(Protocol):
    """Carries controls to every process that serves boards (this one included)."""

    async def start(self) -> None:
        """Start listening for the other processes' controls; runs until :meth:`close`."""
        ...

    def held(self, rooms: Sequence[str], why: str) -> AbstractAsyncContextManager[int]:
        """Every process holds ``rooms`` (see :data:`Hold`) until the block ends.

        Entering waits until each process that serves boards says it holds
        them, and yields how many do; :class:`~candor.errors.LogUnavailable`
        when one does not answer in time (nothing is held then).
        """
        ...

    async def revoke(self, event_id: str) -> int:
        """Every process closes the connections of ``event_id``'s participants; how many were closed in all."""
        ...

    async def close(self) -> None: ...


def room_hold(registry: RoomRegistry) -> Hold:
    """How this process holds rooms: their connections (drafts rooms' too) closed, loads paused."""

    @contextlib.asynccontextmanager
    async def hold(rooms: Sequence[str], why: str) -> AsyncIterator[None]:
        def chosen(room: str) -> bool:
            drafts = split_drafts_room(room)
            return room in names or (drafts is not None and drafts[0] in names)

        error = HOLD_REASONS[why]()
        names = set(rooms)
        registry.close_peers(lambda room, _: chosen(room), error)
        loaded = {room for room in registry.rooms if chosen(room)}
        async with registry.paused([RoomId(room) for room in sorted(names | loaded)], error):
            yield

    return hold


def room_revoke(registry: RoomRegistry) -> Revoke:
    """How this process revokes an event's participants: their connections closed (4401)."""

    def revoke(event_id: str) -> int:
        return registry.close_peers(
            lambda room, access: room.startswith(f"{event_id}-") and access.role is Role.PARTICIPANT,
            Unauthorized(REVOKED_REASON),
        )

    return revoke


class LocalControls:
    """The controls of a process that shares its storage with no other (SQLite)."""

    def __init__(self, hold: Hold, revoke: Revoke) -> None:
        self._hold = hold
        self._revoke = revoke

    async def start(self) -> None:
        return None

    @contextlib.asynccontextmanager
    async def held(self, rooms: Sequence[str], why: str) -> AsyncIterator[int]:
        async with self._hold(rooms, why):
            yield 1

    async def revoke(self, event_id: str) -> int:
        return self._revoke(event_id)

    async def close(self) -> None:
        return None
