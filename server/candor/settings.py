"""Server settings: one frozen value built by the CLI (or a test) and handed to create_app."""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from candor.log.sqlite import DURABILITY_PROCESS
from candor.rooms.limits import PeerLimits
from candor.rooms.room import RoomSettings

MIB = 1024 * 1024

# Where ``candor serve --workers N`` hands the settings to its worker processes (see settings_to_json).
SETTINGS_ENV = "CANDOR_SETTINGS"
# ... and how they log, as ``level:format``.
LOGGING_ENV = "CANDOR_LOGGING"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("candor-data")
    max_message_bytes: int = MIB
    outbox_limit: int = 1024
    # Any room name is a free-form Yjs document anyone may edit (the generic Yjs-server mode).
    open_rooms: bool = False
    rooms: RoomSettings = field(default_factory=RoomSettings)
    limits: PeerLimits = field(default_factory=PeerLimits)
    max_http_body_bytes: int = MIB
    # Browser pages allowed to open websockets besides the server's own origin.
    allowed_origins: tuple[str, ...] = ()
    # Share log, fan-out, events and token secret with other processes through this Redis.
    redis_url: str | None = None
    # Redis: an append is answered (and broadcast) once this many replicas of its shard have it (WAIT).
    redis_wait_replicas: int = 0
    # SQLite: "process" (an accepted update survives the server crashing or being killed) or
    # "machine" (fsync per group commit: it also survives an OS crash or power loss).
    durability: str = DURABILITY_PROCESS
    # Creating an event needs this token (as a bearer token); None: anyone who reaches the server may.
    create_token: str | None = None
    # Events one address may create per hour (a burst of as many, then one every 3600/N s); 0: no limit.
    max_events_per_hour: int = 20
    # Wrong join codes one address may try in a minute before it is banned for join_ban_s.
    join_failures_per_minute: int = 10
    join_ban_s: float = 300.0
    # Erase events this many days after their last activity; None: keep them until a facilitator erases them.
    retain_days: float | None = None
    # The address join links and QR codes carry: ``--public-url`` as given (behind a proxy or a
    # name), else the LAN address when listening beyond loopback (see candor.reach).
    public_url: str | None = None
    lan_url: str | None = None
    # Listening on 127.0.0.1 only: nobody but this computer can open the links; pages say so.
    loopback_only: bool = False
    # Websocket messages in and out without ASGI, through Candor's own protocol class (candor.http.direct);
    # off, or where that class cannot run, uvicorn's websockets serve them through ASGI.
    direct_io: bool = True

    @property
    def log_path(self) -> Path:
        return self.data_dir / "candor.sqlite3"

    @property
    def events_path(self) -> Path:
        return self.data_dir / "events.sqlite3"


def settings_to_json(settings: Settings) -> str:
    """The settings as JSON, for a worker process to rebuild with :func:`settings_from_json`."""
    return json.dumps(_plain(settings))


def settings_from_json(text: str) -> Settings:
    """Inverse of :func:`settings_to_json`."""
    settings: Settings = _built(Settings, json.loads(text))
    return settings


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _built(cls: type[Any], data: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kind, value = hints[f.name], data[f.name]
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            value = _built(kind, value)
        elif kind is Path:
            value = Path(value)
        elif typing.get_origin(kind) is tuple:
            value = tuple(value)
        values[f.name] = value
    return cls(**values)
