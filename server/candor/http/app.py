"""create_app(settings): wires the log, the registry, the API and the websocket endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from candor.broker.base import Broker
from candor.broker.local import LocalBroker
from candor.broker.redis import RedisBroker
from candor.errors import CandorError
from candor.http import console_api, events_api, export_api
from candor.http.api import error_response, get_board, healthz, server_info
from candor.http.body_limit import BodyLimit
from candor.http.services import Services, services
from candor.http.throttle import AttemptThrottle, RateLimit
from candor.http.ws import ConnectionCounter, websocket_endpoint
from candor.ids import RoomId
from candor.log.redis import RedisLog
from candor.log.redis_names import new_node_id
from candor.log.sqlite import SqliteLog
from candor.logs import configure as configure_logging
from candor.metrics import CONTENT_TYPE
from candor.rooms.registry import RoomRegistry
from candor.schemas import schema_path
from candor.settings import LOGGING_ENV, SETTINGS_ENV, Settings, settings_from_json
from candor.workshops.controls import LocalControls, RoomControls, room_hold, room_revoke
from candor.workshops.erase import ErasableLog, ErasableStore, Eraser
from candor.workshops.redis import RedisControls, RedisEventStore
from candor.workshops.retention import Retention
from candor.workshops.reveal import Revealer
from candor.workshops.service import EventService
from candor.workshops.store import SqliteEventStore
from candor.workshops.tokens import TokenSigner, load_or_create_secret

logger = logging.getLogger("candor.app")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


async def index(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html")


async def candor_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CandorError)
    return error_response(exc)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no such path, wrong method) in the API's one error shape."""
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = f"no such path: {request.url.path}" if exc.status_code == 404 else str(exc.detail)
    return JSONResponse({"error": {"code": code, "message": message}}, exc.status_code, headers=exc.headers)


async def internal_error(request: Request, exc: Exception) -> Response:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": {"code": "internal_error", "message": "the server failed; it is logged"}}, 500)


async def metrics(request: Request) -> Response:
    """Prometheus text format; no room names, note text or tokens in any label."""
    return Response(services(request).registry.metrics.render(), media_type=CONTENT_TYPE)


async def openapi(request: Request) -> Response:
    return FileResponse(schema_path("openapi.json"), media_type="application/json")


async def open_storage(settings: Settings) -> tuple[ErasableLog, ErasableStore, Broker, bytes]:
    """Log, event store, broker and token secret: SQLite in the data directory, or all shared in Redis."""
    if settings.redis_url is None:
        secret = load_or_create_secret(settings.data_dir)
        return (
            SqliteLog(settings.log_path, settings.durability),
            SqliteEventStore(settings.events_path),
            LocalBroker(),
            secret,
        )
    # The log announces this process's appends under the id its broker skips: one id, given to both.
    node_id = new_node_id()
    log = await RedisLog.connect(settings.redis_url, node_id=node_id, wait_replicas=settings.redis_wait_replicas)
    try:
        store = await RedisEventStore.connect(settings.redis_url)
    except CandorError:
        await log.close()
        raise
    try:
        secret = await store.shared_secret()
        broker = await RedisBroker.connect(settings.redis_url, log, node_id)
    except CandorError:
        await log.close()
        await store.close()
        raise
    return log, store, broker, secret


@contextlib.asynccontextmanager
async def _controls(settings: Settings, registry: RoomRegistry) -> AsyncIterator[RoomControls]:
    """Controls that reach every process serving boards (through Redis when shared), started and closed."""
    hold, revoke = room_hold(registry), room_revoke(registry)
    controls: RoomControls = (
        await RedisControls.connect(settings.redis_url, hold, revoke)
        if settings.redis_url is not None
        else LocalControls(hold, revoke)
    )
    await controls.start()
    try:
        yield controls
    finally:
        await controls.close()


def _services(
    settings: Settings,
    log: ErasableLog,
    store: ErasableStore,
    secret: bytes,
    registry: RoomRegistry,
    controls: RoomControls,
) -> Services:
    return Services(
        settings=settings,
        log=log,
        registry=registry,
        events=EventService(store, log, TokenSigner(secret), settings.open_rooms),
        controls=controls,
        eraser=Eraser(store, log, controls),
        connections=ConnectionCounter(settings.limits.max_connections_per_address),
        join_throttle=AttemptThrottle(settings.join_failures_per_minute, 60.0, settings.join_ban_s),
        create_limit=(
            RateLimit(settings.max_events_per_hour, settings.max_events_per_hour)
            if settings.max_events_per_hour > 0
            else None
        ),
    )


def app_from_environment() -> Starlette:
    """The app of each worker of ``candor serve --workers N``: the CLI put its settings in the environment."""
    level, _, fmt = os.environ.get(LOGGING_ENV, "info:json").partition(":")
    configure_logging(level, fmt or "json")
    return create_app(settings_from_json(os.environ[SETTINGS_ENV]))


async def _background(work: Coroutine[Any, Any, None], name: str) -> None:
    """Run ``work`` (until cancelled) in the lifespan's task group: a failure is logged, not raised into the group."""
    try:
        await work
    except Exception:
        logger.exception("%s failed", name)


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log, store, broker, secret = await open_storage(settings)
        try:
            await broker.start()
            collect_ended: asyncio.Queue[RoomId] = asyncio.Queue()
            registry = RoomRegistry(log, settings.rooms, on_collect_ended=collect_ended.put_nowait, broker=broker)
            # Leaving the registry flushes and snapshots every open room, before the log closes.
            async with registry, _controls(settings, registry) as controls, asyncio.TaskGroup() as background:
                parts = _services(settings, log, store, secret, registry, controls)
                app.state.candor = parts
                revealer = Revealer(log, registry, collect_ended)
                work = [background.create_task(_background(revealer.run(), "revealer"), name="revealer")]
                if settings.retain_days is not None:
                    retention = Retention(parts.eraser, settings.retain_days)
                    work.append(background.create_task(_background(retention.run(), "retention"), name="retention"))
                try:
                    yield
                finally:
                    for task in work:
                        task.cancel()
        finally:
            await broker.close()
            await log.close()
            await store.close()
            logger.info("shut down cleanly")

    routes = [
        Route("/", index),
        # Pages of the browser client (one page app): the links the API hands out.
        Route("/join/{event_id}", index),
        Route("/event/{event_id}", index),
        Route("/board/{room}", index),
        Route("/healthz", healthz),
        Route("/api/openapi.json", openapi),
        Route("/api/info", server_info),
        Route("/metrics", metrics),
        Route("/api/rooms/{room}/board", get_board),
        Route("/api/rooms/{room}/history", export_api.room_history),
        Route("/api/rooms/{room}/export", export_api.export_room),
        Route("/api/templates", events_api.list_templates),
        Route("/api/events", events_api.create_event, methods=["POST"]),
        Route("/api/events/{event_id}", events_api.get_event, methods=["GET"]),
        Route("/api/events/{event_id}", events_api.erase_event, methods=["DELETE"]),
        Route("/api/events/{event_id}/join", events_api.join_info, methods=["GET"]),
        Route("/api/events/{event_id}/join", events_api.join_event, methods=["POST"]),
        Route("/api/events/{event_id}/rooms", events_api.list_rooms, methods=["GET"]),
        Route("/api/events/{event_id}/rooms", events_api.add_room, methods=["POST"]),
        Route("/api/events/{event_id}/rooms/{room_id}", events_api.rename_room, methods=["PATCH"]),
        Route("/api/events/{event_id}/broadcast", events_api.broadcast, methods=["POST"]),
        Route("/api/events/{event_id}/plenary", events_api.plenary, methods=["POST"]),
        Route("/api/events/{event_id}/revoke", events_api.revoke, methods=["POST"]),
        Route("/api/join/{code}", events_api.find_by_code),
        Route("/api/events/{event_id}/export", export_api.export_event),
        Route("/api/events/{event_id}/details", export_api.get_details, methods=["GET"]),
        Route("/api/events/{event_id}/details", export_api.put_details, methods=["PUT"]),
        Route("/api/rooms/{room}/purge", events_api.purge, methods=["POST"]),
        Route("/api/reach", console_api.reach),
        Route("/api/events/{event_id}/ideas", console_api.ideas),
        WebSocketRoute("/ws/{room}", websocket_endpoint),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={CandorError: candor_error, HTTPException: http_error, Exception: internal_error},
        middleware=[Middleware(BodyLimit, max_bytes=settings.max_http_body_bytes)],
    )
