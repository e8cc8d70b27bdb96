"""``candor serve``'s settings options: one table, whose defaults are the settings dataclasses' own.

Each option names the settings field it sets by a dotted path (``limits.messages_per_s``
is ``Settings().limits.messages_per_s``); its default and type come from that field, so a
default is written once, in :mod:`candor.settings` or the dataclass it holds, and the CLI,
tests building ``Settings()`` and worker processes all agree on it.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from candor.log.sqlite import DURABILITY
from candor.settings import Settings


def _positive_days(text: str) -> float:
    days = float(text)
    if not 0 < days < 100_000:
        raise argparse.ArgumentTypeError("must be a number of days above 0")
    return days


@dataclass(frozen=True, slots=True)
class Option:
    flag: str
    path: str  # the settings field it sets, dotted through nested settings
    help: str
    choices: tuple[str, ...] | None = None
    kind: Callable[[str], Any] | None = None  # how the text is read; default: the type of the field's default
    metavar: str | None = None


OPTIONS = (
    Option("--data", "data_dir", "data directory"),
    Option("--max-message-bytes", "max_message_bytes", "largest accepted websocket frame (bytes)"),
    Option("--snapshot-every", "rooms.snapshot_every", "snapshot a room every N updates"),
    Option(
        "--durability",
        "durability",
        "SQLite: an accepted update survives a crash of the server process (process), "
        "or of the whole machine (machine: fsync per group commit, slower on most disks)",
        choices=DURABILITY,
    ),
    Option("--idle-timeout", "rooms.idle_timeout_s", "evict a room idle this many seconds"),
    Option("--max-board-bytes", "rooms.max_board_bytes", "largest board (bytes)"),
    Option("--max-messages-per-s", "limits.messages_per_s", "messages one connection may send per second"),
    Option("--max-bytes-per-s", "limits.bytes_per_s", "bytes one connection may send per second"),
    Option("--max-peers-per-room", "limits.max_peers_per_room", "connections one room may hold"),
    Option("--max-connections-per-address", "limits.max_connections_per_address", "connections from one address"),
    Option(
        "--max-presence-per-connection",
        "rooms.max_presence_per_connection",
        "presence states (awareness client ids) one connection may show",
    ),
    Option("--max-presence-per-room", "rooms.max_presence_per_room", "presence states one room shows in all"),
    Option(
        "--presence-interval",
        "rooms.presence_interval_s",
        "a room's presence changes are sent to its peers gathered, one frame per this many seconds (0: each at once)",
    ),
    Option("--peer-idle-timeout", "limits.idle_timeout_s", "close a silent connection (seconds)"),
    Option("--sync-timeout", "limits.sync_timeout_s", "close a connection that never syncs (seconds)"),
    Option("--flood-close-after", "limits.flood_close_after_s", "close a connection throttled this long (seconds)"),
    Option("--max-awareness-bytes", "limits.max_awareness_bytes", "largest presence state (bytes)"),
    Option("--max-http-body-bytes", "max_http_body_bytes", "largest HTTP request body (413 past it)"),
    Option("--max-events-per-hour", "max_events_per_hour", "events one address may create per hour (0: no limit)"),
    Option(
        "--join-failures-per-minute",
        "join_failures_per_minute",
        "wrong join codes one address may try in a minute before it is banned",
    ),
    Option("--join-ban-s", "join_ban_s", "how long such an address is banned (seconds)"),
    Option(
        "--retain-days",
        "retain_days",
        "erase events N days after their last activity (default: keep them until a facilitator erases them)",
        kind=_positive_days,
        metavar="N",
    ),
    Option("--outbox-limit", "outbox_limit", "frames queued to a slow reader before it is closed"),
    Option(
        "--redis-wait-replicas",
        "redis_wait_replicas",
        "answer and broadcast an update only once N replicas of its Redis shard have it (WAIT N): "
        "a failover then loses nothing broadcast (0: the last ~second can be lost)",
        metavar="N",
    ),
)


def _value(settings: Any, path: str) -> Any:
    for name in path.split("."):
        settings = getattr(settings, name)
    return settings


def _declared(path: str) -> Any:
    """The type the field at ``path`` is declared with (``float`` for ``bytes_per_s: float = 1024``)."""
    owner: Any = Settings
    names = path.split(".")
    for name in names[:-1]:
        owner = typing.get_type_hints(owner)[name]
    return typing.get_type_hints(owner)[names[-1]]


def _dest(option: Option) -> str:
    return option.flag.removeprefix("--").replace("-", "_")


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add every option of :data:`OPTIONS`, each defaulting to its field of ``Settings()``."""
    defaults = Settings()
    for option in OPTIONS:
        default = _value(defaults, option.path)
        kind = option.kind or _declared(option.path)
        shown = "" if default is None else f" (default {default})"
        parser.add_argument(
            option.flag,
            dest=_dest(option),
            type=kind,
            default=default,
            choices=option.choices,
            metavar=option.metavar,
            help=option.help + shown,
        )


def settings_from_options(args: argparse.Namespace, **others: Any) -> Settings:
    """``Settings()`` with every option's value from ``args``, plus the fields given as ``others``."""
    settings = dataclasses.replace(Settings(), **others)
    for option in OPTIONS:
        settings = _replaced(settings, option.path.split("."), getattr(args, _dest(option)))
    return settings


def _replaced(settings: Any, path: list[str], value: Any) -> Any:
    name = path[0]
    if len(path) > 1:
        value = _replaced(getattr(settings, name), path[1:], value)
    return dataclasses.replace(settings, **{name: value})
