"""A real uvicorn serving an app in the test's own process, for tests that watch the app's insides."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn


@contextlib.asynccontextmanager
async def uvicorn_serving(app: Any, **options: Any) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """``app`` served on a free port with ``uvicorn.Config`` options; yields its ws:// base URL and the server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, **options))
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        await serving
