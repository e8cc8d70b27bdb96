"""A participant on a poor connection: edits made offline merge when the connection returns."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect
from webtools import Api, Network, board_url, open_person, people, wait_connected

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECTION = "define-the-problem"


async def test_edits_made_offline_merge_when_the_connection_returns(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("Poor connections")
    room = event["rooms"][1]["id"]
    base = web_server.http_url
    travelling, staying = await api.join(event, "Sam"), await api.join(event)
    specs = [
        ("facilitator", board_url(base, room, event["facilitator_token"])),
        ("staying", board_url(base, room, staying["token"])),
    ]
    async with people(browser, *specs) as (facilitator, other):
        sam = await open_person(browser, "sam", "")
        try:
            network = Network(sam.context)
            await network.install()
            await sam.page.goto(board_url(base, room, travelling["token"]))
            await wait_connected(sam)
            await sam.add_note(SECTION, "Written before the train left")
            await expect(other.note("Written before the train")).to_be_visible()

            await network.cut()
            await expect(sam.page.locator(".status")).to_have_attribute("data-status", "disconnected")
            await expect(sam.page.locator(".status")).to_contain_text("Your changes are kept on this device")
            await sam.add_note(SECTION, "Written in the tunnel")
            await sam.note("Written before the train").focus()
            await sam.page.keyboard.press("Enter")
            composer = sam.section(SECTION).locator("form.composer")
            await composer.locator("#composer-text").fill("Written before the train left, edited offline")
            await composer.locator("#composer-text").press("Enter")
            await sam.note("Written in the tunnel").focus()
            await sam.page.keyboard.press("ArrowRight")  # and moved, too
            await other.add_note(SECTION, "Meanwhile in the room")
            await expect(sam.note("Meanwhile in the room")).to_have_count(0)
            await expect(other.note("Written in the tunnel")).to_have_count(0)
            await sam.shot("board-offline")

            await network.restore()
            await expect(sam.page.locator(".status")).to_have_attribute("data-status", "connected")
            for person in (facilitator, other, sam):
                notes = person.section(SECTION).locator(".note")
                await expect(notes).to_have_count(3)
                await expect(person.note("edited offline")).to_be_visible()
                await expect(person.note("Written in the tunnel")).to_be_visible()
                await expect(person.note("Meanwhile in the room")).to_be_visible()
            moved = await other.note("Written in the tunnel").evaluate("(el) => el.style.left")
            assert moved == await sam.note("Written in the tunnel").evaluate("(el) => el.style.left")
            stored = await api.board(room, event["facilitator_token"])
            assert sorted(n["text"] for n in stored["notes"].values()) == [
                "Meanwhile in the room",
                "Written before the train left, edited offline",
                "Written in the tunnel",
            ]
            assert not sam.errors, sam.errors
        finally:
            await sam.close()
