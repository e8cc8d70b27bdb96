"""Helpers for the browser tests: the events API, people in their own browser contexts, axe, screenshots."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, Page, WebSocketRoute, expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
AXE_JS = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}

expect.set_options(timeout=10_000)


class Api:
    """The events API, as a facilitator's or participant's browser would call it."""

    def __init__(self, base: str) -> None:
        self.base = base

    async def _call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as client:
            response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    async def create_event(
        self,
        title: str = "Beyond hero stories",
        template: str = "beyond-hero-stories",
        rooms: int = 2,
        create_token: str | None = None,
    ) -> Any:
        body = {"title": title, "template": template, "rooms": rooms}
        return await self._call("POST", "/api/events", body, token=create_token)

    async def join(self, event: dict[str, Any], name: str | None = None) -> Any:
        body = {"code": event["join_code"], "agree": True, **({"name": name} if name else {})}
        return await self._call("POST", f"/api/events/{event['event_id']}/join", body)

    async def board(self, room: str, token: str) -> Any:
        return (await self._call("GET", f"/api/rooms/{room}/board", token=token))["board"]


@dataclass
class Person:
    """Someone at their own device: a browser context (own storage, own network) and one page."""

    name: str
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    sent_frames: list[bytes] = field(default_factory=list)

    async def shot(self, name: str, full_page: bool = False) -> Path:
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def section(self, section_id: str) -> Any:
        return self.page.locator(f".section[data-section='{section_id}']")

    def note(self, text: str) -> Any:
        return self.page.locator(".note", has_text=text)

    async def add_note(
        self, section_id: str, text: str, *, colour: str | None = None, sign: bool = False, scope: str | None = None
    ) -> None:
        """Add a note the keyboard way: focus the section, press n, type, Enter."""
        await self.section(section_id).locator("[data-act='add']").focus()
        await self.page.keyboard.press("n")
        composer = self.section(section_id).locator("form.composer")
        await expect(composer).to_be_visible()
        await self.page.keyboard.type(text)
        if colour:
            await composer.get_by_label(colour.capitalize(), exact=True).check()
        if sign:
            await composer.locator("#composer-sign").check()
        if scope:
            await composer.locator(f"input[name='scope'][value='{scope}']").check()
        await composer.locator("#composer-text").press("Enter")
        await self.page.keyboard.press("Escape")
        await expect(composer).to_have_count(0)

    async def close(self) -> None:
        await self.context.close()


async def open_person(
    browser: Browser, name: str, url: str, *, viewport: dict[str, int] | None = None, record_frames: bool = False
) -> Person:
    context = await browser.new_context(viewport=viewport or DESKTOP)
    page = await context.new_page()
    person = Person(name, context, page)
    page.on("pageerror", lambda error: person.errors.append(str(error)))
    if record_frames:
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: person.sent_frames.append(_bytes(payload))))
    if url:
        await page.goto(url)
    return person


def _bytes(payload: str | bytes) -> bytes:
    return payload if isinstance(payload, bytes) else payload.encode()


async def wait_connected(person: Person) -> None:
    await expect(person.page.locator(".status")).to_have_attribute("data-status", "connected")
    await expect(person.page.locator(".sections .section, .projector-stage").first).to_be_visible()


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 10) -> None:
    """Wait until ``check()`` is true (for what a locator assertion cannot express)."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def confirm_reveal(page: Page) -> None:
    """Answer the facilitator's "Reveal the private notes?" question with yes."""
    ask = page.get_by_role("dialog", name="Reveal the private notes?")
    await ask.get_by_role("button", name=re.compile("^Reveal them")).click()
    await expect(ask).to_have_count(0)


def board_url(base: str, room: str, token: str) -> str:
    return f"{base}/board/{room}?token={token}"


@contextlib.asynccontextmanager
async def people(browser: Browser, *specs: tuple[str, str]) -> AsyncIterator[list[Person]]:
    """Open one person per (name, url) on the board, each in their own context; close them all after."""
    opened: list[Person] = []
    try:
        for name, url in specs:
            person = await open_person(browser, name, url, record_frames=name == "projector")
            opened.append(person)
        for person in opened:
            await wait_connected(person)
        yield opened
        for person in opened:
            assert not person.errors, f"{person.name}: uncaught errors in the page: {person.errors}"
    finally:
        for person in opened:
            await person.close()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, of any impact (minor ones included)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE_JS))
    results = await page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '')) }))"""
    )
    return list(results)


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=2)


class Network:
    """A person's network, which tests can cut (sockets closed, new ones refused) or stall (sockets stay
    open but nothing gets through, as when Wi-Fi drops without the browser noticing)."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.online = True
        self.stalled = False
        self.sockets: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    async def install(self) -> None:
        await self.context.route_web_socket("**/ws/**", self._route)

    async def _route(self, ws: WebSocketRoute) -> None:
        if not self.online:
            await ws.close(code=4000, reason="no network")
            return
        server = ws.connect_to_server()
        ws.on_message(lambda message: None if self.stalled else server.send(message))
        server.on_message(lambda message: None if self.stalled else ws.send(message))
        self.sockets.append((ws, server))

    async def cut(self) -> None:
        self.online = False
        await self.context.set_offline(True)
        sockets, self.sockets = self.sockets, []
        for page_side, server_side in sockets:
            await page_side.close(code=4000, reason="network lost")
            await server_side.close()

    def stall(self) -> None:
        self.stalled = True

    async def restore(self) -> None:
        self.online = True
        self.stalled = False
        await self.context.set_offline(False)
