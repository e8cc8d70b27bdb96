"""Command line: ``candor serve``, ``candor replay`` and ``candor export``."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import secrets
import sys
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from candor.errors import BadRequest, CandorError, ExportUnavailable, RoomNotFound
from candor.ids import RoomId, is_valid_room_id
from candor.logs import configure as configure_logging
from candor.options import add_options, settings_from_options
from candor.reach import OPEN_TO_ROOM, check_public_url, reach_for
from candor.settings import LOGGING_ENV, SETTINGS_ENV, Settings, settings_to_json

if TYPE_CHECKING:
    from candor.export.model import Export, RoomInfo


def settings_from_args(args: argparse.Namespace) -> Settings:
    reach = reach_for(args.host, args.port, args.public_url)
    return settings_from_options(
        args,
        open_rooms=args.open_rooms,
        allowed_origins=tuple(args.allowed_origin),
        redis_url=args.redis_url,
        create_token=args.create_token or None,
        public_url=reach.url if args.public_url else None,
        lan_url=None if args.public_url else reach.url,
        loopback_only=reach.loopback_only,
        direct_io=args.direct_io == "on",
    )


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host`` (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: reachable from wherever it resolves


def _shown(redis_url: str) -> str:
    """A Redis URL without its password, fit to print."""
    parts = urlsplit(redis_url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"


def _reach_line(settings: Settings) -> str:
    """What the person who started the server is told about the address the room should open."""
    if settings.public_url or settings.lan_url:
        return f"People in the room open {settings.public_url or settings.lan_url}/ (join links and QR codes use it)"
    if settings.loopback_only:
        return (
            "Only this computer can open it: phones and other laptops cannot join. "
            f"To open it to the room, stop it and run: {OPEN_TO_ROOM}"
        )
    return "No network address found: join links use the address the facilitator's browser opened"


def _open_when_ready(url: str) -> None:
    """Open the start page in a browser once /healthz answers (bounded wait)."""
    for _ in range(100):
        try:
            with urllib.request.urlopen(url + "healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    webbrowser.open(url)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from candor.http.app import create_app
    from candor.http.direct import ws_protocol

    if args.workers < 1 or (args.workers > 1 and not args.redis_url):
        print("candor serve: --workers N needs N >= 1, and --redis-url when N > 1", file=sys.stderr)
        return 2
    if args.redis_wait_replicas < 0 or (args.redis_wait_replicas > 0 and not args.redis_url):
        print("candor serve: --redis-wait-replicas N needs N >= 0, and --redis-url when N > 0", file=sys.stderr)
        return 2
    if args.create_token is None and not is_loopback(args.host):
        # Reachable from other machines: nobody creates events without a token, unless one is made up here.
        args.create_token = secrets.token_urlsafe(18)
        print(f"Creating events needs the token {args.create_token} (choose your own with --create-token)", flush=True)
    if args.public_url:
        try:
            check_public_url(args.public_url)
        except ValueError as exc:
            print(f"candor serve: --public-url {exc}", file=sys.stderr)
            return 2
    settings = settings_from_args(args)
    url = f"http://{args.host if ':' not in args.host else '[' + args.host + ']'}:{args.port}/"
    if args.host in ("0.0.0.0", "::", ""):
        url = f"http://127.0.0.1:{args.port}/"  # what a browser on this computer can open
    where = f"shared through {_shown(args.redis_url)}" if args.redis_url else f"data in {settings.data_dir}"
    workers = f", {args.workers} worker processes" if args.workers > 1 else ""
    print(f"Candor serving {url} ({where}{workers})", flush=True)
    print(_reach_line(settings), flush=True)
    if args.open:
        threading.Thread(target=_open_when_ready, args=(url,), daemon=True).start()
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "ws": ws_protocol(settings.direct_io),  # Candor's own, for messages without ASGI (candor.http.direct)
        "ws_max_size": settings.max_message_bytes,
        "log_level": args.log_level,
        "log_config": None,  # logging is set up by candor.logs: JSON lines, no tokens
        # Access lines would print the tokens that links carry in their query strings.
        "access_log": False,
        "timeout_graceful_shutdown": 10,
    }
    if args.workers > 1:
        # Each worker process builds its own app from these (see candor.http.app.app_from_environment).
        os.environ[SETTINGS_ENV] = settings_to_json(settings)
        os.environ[LOGGING_ENV] = f"{args.log_level}:{args.log_format}"
        uvicorn.run("candor.http.app:app_from_environment", factory=True, workers=args.workers, **options)
        return 0
    uvicorn.Server(uvicorn.Config(create_app(settings), **options)).run()
    return 0


async def _replay(data: Path, room: str, at: str | None, redis_url: str | None = None) -> dict[str, object]:
    from candor.http.api import board_at
    from candor.log.redis import RedisLog
    from candor.log.snapshots import SnapshottedLog
    from candor.log.sqlite import SqliteLog
    from candor.workshops.redis import RedisEventStore
    from candor.workshops.service import is_board_room
    from candor.workshops.store import EventStore, SqliteEventStore

    log: SnapshottedLog = await RedisLog.connect(redis_url) if redis_url else SqliteLog(data / "candor.sqlite3")
    try:
        store: EventStore = (
            await RedisEventStore.connect(redis_url) if redis_url else SqliteEventStore(data / "events.sqlite3")
        )
    except CandorError:
        await log.close()
        raise
    try:
        # A board keeps its shape as it is rebuilt; a free-form room (--open-rooms) has none.
        return await board_at(log, RoomId(room), at, board=await is_board_room(store, room))
    finally:
        await store.close()
        await log.close()


def replay(args: argparse.Namespace) -> int:
    if not is_valid_room_id(args.room):
        print(f"candor replay: {args.room!r} is not a valid room name", file=sys.stderr)
        return 2
    if not args.redis_url and not (Path(args.data) / "candor.sqlite3").exists():
        print(f"candor replay: no event log in {args.data}", file=sys.stderr)
        return 2
    try:
        board = asyncio.run(_replay(Path(args.data), args.room, args.at, args.redis_url))
    except CandorError as exc:
        print(f"candor replay: {exc.message}", file=sys.stderr)
        return 1
    json.dump(board, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


class ProgressBar:
    """A text progress bar on stderr: redrawn in place on a terminal, one line per report elsewhere."""

    WIDTH = 30

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.live = out.isatty()

    def __call__(self, room: RoomInfo, done: int, total: int) -> None:
        filled = self.WIDTH * done // total if total else self.WIDTH
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"rebuilding {room.label} [{bar}] {done}/{total} records"
        if self.live:
            self.out.write("\r" + line + ("\n" if done >= total else ""))
        else:
            self.out.write(line + "\n")
        self.out.flush()


async def _export(data: Path, target: str, at: str | None, audience: str | None, bar: ProgressBar) -> Export:
    from candor.export.gather import EVENT_AUDIENCES, EventInfo, gather_event, gather_room
    from candor.export.model import RoomInfo, parse_audience
    from candor.log.sqlite import SqliteLog
    from candor.workshops.details import stored_details
    from candor.workshops.reveal import split_drafts_room
    from candor.workshops.store import EventRecord, SqliteEventStore

    if split_drafts_room(target) is not None:
        raise BadRequest("private drafts are never exported; export the board they belong to")
    log = SqliteLog(data / "candor.sqlite3")
    # Opening the store would create it: a data directory of free-form rooms has none.
    store = SqliteEventStore(data / "events.sqlite3") if (data / "events.sqlite3").exists() else None

    async def about(event: EventRecord) -> EventInfo:
        assert store is not None
        details = stored_details(await store.details(event.id))
        return EventInfo(event.id, event.title, event.template, details, event.created_ms)

    try:
        event = await store.event(target) if store else None
        if store is not None and event is not None:
            info = await about(event)
            rooms = [RoomInfo(r.id, r.label, r.kind) for r in await store.rooms(event.id)]
            chosen = parse_audience(audience, EVENT_AUDIENCES)
            return await gather_event(log, info, rooms, chosen, at, progress=bar)
        room = await store.room(target) if store else None
        chosen = parse_audience(audience, ("room", "public"))
        if store is None or room is None:
            if not is_valid_room_id(target) or await log.head(RoomId(target)) == 0:
                raise RoomNotFound(f"no room or event {target!r} in {data}")
            return await gather_room(log, RoomInfo(target, target), chosen, at, progress=bar)
        owner = await store.event(room.event_id)
        labels = {r.id: r.label for r in await store.rooms(room.event_id)}
        info_room = RoomInfo(room.id, room.label, room.kind)
        owner_info = await about(owner) if owner else None
        return await gather_room(log, info_room, chosen, at, event=owner_info, room_labels=labels, progress=bar)
    finally:
        await log.close()
        if store is not None:
            await store.close()


def export(args: argparse.Namespace) -> int:
    from candor.export.formats import export_filename, format_named

    data = Path(args.data)
    if not (data / "candor.sqlite3").exists():
        print(f"candor export: no event log in {data}", file=sys.stderr)
        return 2
    fmt = format_named(args.format)
    try:
        result = asyncio.run(_export(data, args.target, args.at, args.audience, ProgressBar(sys.stderr)))
    except (BadRequest, RoomNotFound) as exc:
        print(f"candor export: {exc.message}", file=sys.stderr)
        return 2
    except CandorError as exc:
        print(f"candor export: {exc.message}", file=sys.stderr)
        return 1
    try:
        body = fmt.render(result)
    except ExportUnavailable as exc:
        print(f"candor export: {exc.message}", file=sys.stderr)
        return 2
    target = Path(args.output) if args.output else Path(export_filename(result, fmt))
    try:
        target.write_bytes(body)
    except OSError as exc:
        print(f"candor export: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return 1
    rooms = ", ".join(f"{room.label} at seq {room.seq}" for room in result.rooms) or "no rooms"
    rooms = f"{result.moment}: {rooms}"
    print(f"candor export: wrote {target} ({len(body)} bytes; {rooms})", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="candor", description="Event-sourced collaborative whiteboard server.")
    defaults = Settings()
    sub = parser.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the server (SQLite in one process, or several sharing Redis)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    add_options(s)
    s.add_argument(
        "--open-rooms",
        action="store_true",
        help="generic Yjs-server mode: any room name is a free-form document anyone may edit",
    )
    s.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin (https://host) whose pages may open boards besides this server's own; repeatable",
    )
    s.add_argument(
        "--create-token",
        metavar="TOKEN",
        help="creating an event needs this token; default: none on a loopback host, a random one (printed) otherwise",
    )
    s.add_argument(
        "--redis-url",
        metavar="URL",
        help="share boards with other processes through this Redis (redis://host:port/0), or through the "
        "Redis Cluster this node belongs to: log, fan-out, events",
    )
    s.add_argument("--workers", type=int, default=1, help="server processes on this port (N > 1 needs --redis-url)")
    s.add_argument("--open", action="store_true", help="open the start page in a browser")
    s.add_argument(
        "--public-url",
        metavar="URL",
        help="the address people open (https://candor.example.org): join links and QR codes use it; "
        "default: this machine's LAN address when --host is beyond loopback",
    )
    s.add_argument(
        "--direct-io",
        choices=["on", "off"],
        default="on" if defaults.direct_io else "off",
        help="websocket messages in and out without ASGI (default on); off: through ASGI, as any server does",
    )
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    s.add_argument("--log-format", default="json", choices=["json", "text"], help="json: one object per line")
    s.set_defaults(func=serve)

    r = sub.add_parser("replay", help="print a room's board as JSON as it stood at a point")
    r.add_argument("room")
    r.add_argument("--at", help="a seq number or an ISO 8601 time (default: now)")
    r.add_argument("--data", type=Path, default=defaults.data_dir)
    r.add_argument("--redis-url", metavar="URL", help="read the log from this Redis instead of --data")
    r.set_defaults(func=replay)

    e = sub.add_parser(
        "export", help="export a room, or a whole event by theme, as Markdown, HTML slides, pptx, JSON or PDF"
    )
    e.add_argument("target", metavar="ROOM_OR_EVENT", help="a room id or an event id")
    e.add_argument("--format", required=True, choices=["md", "html", "pptx", "json", "pdf"])
    e.add_argument(
        "--at", help="a seq number (rooms), an ISO 8601 time, or end-of-PHASE, e.g. end-of-vote (default: now)"
    )
    e.add_argument(
        "--audience",
        choices=["room", "event", "public"],
        help="room (default for a room: every note), event (default for an event: notes shared with the event), "
        "public (only notes made public)",
    )
    e.add_argument("-o", "--output", help="file to write (default: a name made from the room or event)")
    e.add_argument("--data", type=Path, default=defaults.data_dir)
    e.set_defaults(func=export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "log_level", "warning"), getattr(args, "log_format", "text"))
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
