"""Browser tests: Debian's headless Chromium against a real Candor server, one of each per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright
from webtools import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Api


@pytest.fixture(scope="module")
def web_server(make_module_server: Any) -> Any:
    """A server with events only (no free-form rooms), as `candor serve` runs by default."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup --test installs Debian's chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    return make_module_server(open_rooms=False)


@pytest.fixture(scope="module")
def api(web_server: Any) -> Api:
    return Api(web_server.http_url)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
