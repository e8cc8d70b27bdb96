"""What the app's handlers use, made once by the lifespan and kept as one typed value on the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from candor.http.throttle import AttemptThrottle, RateLimit
from candor.rooms.registry import RoomRegistry
from candor.settings import Settings
from candor.workshops.controls import RoomControls
from candor.workshops.erase import ErasableLog, Eraser
from candor.workshops.service import EventService

if TYPE_CHECKING:  # (the websocket endpoint's module finds its services here: no import back at run time)
    from candor.http.ws import ConnectionCounter


@dataclass(frozen=True, slots=True)
class Services:
    """The server's parts, for the handlers; they live as long as the lifespan that made them."""

    settings: Settings
    log: ErasableLog
    registry: RoomRegistry
    events: EventService
    controls: RoomControls
    eraser: Eraser
    connections: ConnectionCounter
    join_throttle: AttemptThrottle
    create_limit: RateLimit | None


def services(connection: HTTPConnection) -> Services:
    """The services of the app serving ``connection`` (a request or a websocket)."""
    found = connection.app.state.candor
    assert isinstance(found, Services), "the app's lifespan has not started"
    return found
