"""Direct websocket I/O: what the endpoint may ask of a connection, and whether the server offers it.

Through ASGI every message in and out is a task wakeup plus several awaited
layers (Starlette, uvicorn, websockets); in a busy room that was most of the
server's time. ``candor serve`` therefore hands uvicorn a websocket protocol
class of its own (:mod:`candor.http.ws_protocol`, through uvicorn's ``ws``
option). It serves ASGI as any server does, and puts itself in the scope under
the :data:`DIRECT_IO` extension: the endpoint then takes messages as they are
parsed and writes frames straight to the socket. A connection served by any
other protocol class has no such extension and is served through ASGI.

The class relies on what uvicorn hands every ``ws`` protocol class (its
``Config``, the server's connections and tasks) and on websockets' public
Sans-I/O ``ServerProtocol``. It is used only with the versions it was tested
with (the pins in ``pyproject.toml``); with others, or with ``--direct-io off``,
uvicorn's own websockets serve every connection through ASGI.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any, Protocol

logger = logging.getLogger("candor.direct")

# The ASGI scope extension under which a connection offers direct I/O.
DIRECT_IO = "candor.direct_io"

# The versions the direct protocol class was tested with: ``>=`` the first, ``<`` the second.
# pyproject.toml pins the same ranges (a test holds them equal).
TESTED = {"uvicorn": ("0.55", "0.56"), "websockets": ("17.0", "18")}

# uvicorn's own choice of websocket implementation: the fallback, served through ASGI.
ASGI_WS = "auto"


class MessageSource(Protocol):
    """Where a connection's messages come from, one at a time, in order."""

    async def deliver_to(self, handle: Callable[[bytes | str], None]) -> int:
        """Call ``handle`` with each message as it arrives, until the connection ends; its close code.

        ``handle`` runs without awaiting anything and must not raise.
        """
        ...

    def pause_reading(self) -> None:
        """Hand nothing over until :meth:`resume_reading`; read ahead a bounded few messages, then stop reading.

        A sender that keeps sending meanwhile finds the connection's buffers full:
        it is slowed down.
        """
        ...

    def resume_reading(self) -> None:
        """Hand over what was read meanwhile, in order, and read on."""
        ...


class DirectSocket(MessageSource, Protocol):
    """An accepted connection the endpoint drives itself: a message source and a peer's Transport."""

    async def send(self, frame: bytes) -> None: ...

    def send_now(self, frame: bytes) -> bool: ...

    async def close(self, code: int, reason: str) -> None: ...


def direct_socket(scope: Mapping[str, Any]) -> DirectSocket | None:
    """The connection's direct I/O, or None when the server serving it offers none."""
    socket: DirectSocket | None = scope.get("extensions", {}).get(DIRECT_IO)
    return socket


def _release(version: str) -> tuple[int, ...]:
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def fast_path_problem(versions: dict[str, str | None]) -> str | None:
    """Why the direct protocol class cannot run with these installed versions (None: not installed), or None."""
    for package, (lowest, below) in TESTED.items():
        version = versions.get(package)
        if version is None:
            return f"{package} is not installed"
        if not _release(lowest) <= _release(version) < _release(below):
            return f"{package} {version} is outside the tested range >={lowest},<{below}"
    return None


def installed_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for package in TESTED:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def ws_protocol(direct_io: bool, versions: dict[str, str | None] | None = None) -> type[asyncio.Protocol] | str:
    """uvicorn's ``ws`` option: Candor's direct protocol class if wanted and able to run, else ASGI.

    Falling back says why in one log line; turned off on purpose, it says nothing.
    """
    if not direct_io:
        return ASGI_WS
    problem = fast_path_problem(installed_versions() if versions is None else versions)
    if problem is not None:
        logger.warning("direct websocket I/O is off, websockets go through ASGI: %s", problem)
        return ASGI_WS
    from candor.http.ws_protocol import DirectWebSocketProtocol

    return DirectWebSocketProtocol
