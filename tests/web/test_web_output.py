"""What a facilitator takes away: the board's history replayed in the browser, and every export downloaded."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect
from webtools import Api, axe_violations, board_url, confirm_reveal, describe, eventually, people

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECTION = "define-the-problem"
FORMATS = {
    "md": ("Markdown (.md)", "text/markdown"),
    "html": ("Slides (.html)", "text/html"),
    "pptx": ("PowerPoint (.pptx)", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "json": ("JSON (.json)", "application/json"),
}


async def download(page: Page, group: Locator, fmt: str, token: str) -> tuple[str, bytes]:
    """Click a format's button in an export group; the file's name and bytes, once checked on the wire."""
    label, media_type = FORMATS[fmt]
    async with page.expect_response(lambda r: "/export?" in r.url) as answered:
        async with page.expect_download() as downloaded:
            await group.get_by_role("button", name=label).click()
    response = await answered.value
    assert response.status == 200, await response.text()
    assert response.headers["content-type"].split(";")[0] == media_type, response.headers
    assert "token" not in response.url, response.url  # the token travels in a header, never in a URL
    assert (await response.request.all_headers())["authorization"] == f"Bearer {token}"
    file = await downloaded.value
    assert file.suggested_filename.endswith(f".{fmt}"), file.suggested_filename
    content = await asyncio.to_thread(Path(await file.path()).read_bytes)
    assert content, f"{fmt}: an empty file"
    if fmt == "pptx":
        assert content[:2] == b"PK"  # a zip, as every .pptx is
    elif fmt == "html":
        assert content.lstrip()[:15].lower() == b"<!doctype html>"
    elif fmt == "json":
        assert json.loads(content)["format"] == "candor-export"
    await expect(group.get_by_role("status")).to_have_text(f"Downloaded {file.suggested_filename}.")
    return file.suggested_filename, content


async def test_a_facilitator_replays_the_board_and_downloads_every_export(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("Looking back", rooms=1)
    room = event["rooms"][1]["id"]
    token = event["facilitator_token"]
    async with people(browser, ("facilitator", board_url(web_server.http_url, room, token))) as (facilitator,):
        page = facilitator.page
        await facilitator.add_note(SECTION, "First idea", scope="event")
        await facilitator.add_note(SECTION, "Second idea", scope="public")
        await page.get_by_role("radio", name="Cluster").check()
        await confirm_reveal(page)
        await facilitator.add_note(SECTION, "Late idea")

        async def all_logged() -> bool:
            board = await api.board(room, token)
            return len(board["notes"]) == 3 and board["meta"]["phase"] == "cluster"

        await eventually(all_logged, "every change to be logged")

        # History: the board as it stood after any change, next to what happened.
        history_button = page.get_by_role("button", name="History")
        await history_button.click()
        history = page.get_by_role("region", name="History")
        await expect(history).to_be_visible()
        await expect(page.get_by_role("region", name="Facilitator tools")).to_be_hidden()
        past = page.locator(".history-board")
        await expect(past.locator(".note")).to_have_count(3)
        timeline = page.get_by_role("region", name="What happened")
        await expect(timeline.get_by_role("button", name=re.compile("board created"))).to_have_count(1)
        await expect(timeline.get_by_role("button", name=re.compile("note added"))).to_have_count(3)
        await expect(timeline).to_contain_text("phase changed to cluster")
        slider = page.get_by_role("slider", name="Change")
        head = int(await slider.get_attribute("max") or 0)
        notes_added = timeline.locator("button", has_text="note added")
        added = [int(seq) for seq in await notes_added.evaluate_all("(items) => items.map((i) => i.dataset.seq)")]
        first, late = added[0], added[-1]
        assert 1 < first < late <= head, (added, head)

        await slider.fill(str(late - 1))
        await expect(past.locator(".note", has_text="Late idea")).to_have_count(0)
        await expect(past.locator(".note", has_text="First idea")).to_be_visible()
        await expect(past.locator(".note", has_text="Second idea")).to_be_visible()
        await expect(page.locator(".history-where")).to_contain_text(f"After change {late - 1} of {head}")
        await expect(slider).to_have_attribute("aria-valuetext", re.compile(rf"^Change {late - 1} of {head}"))
        await expect(past.locator("button, input, textarea")).to_have_count(0)  # read-only
        live = page.locator(f"#board-main > .sections:not(.history-board) .section[data-section='{SECTION}']")
        await expect(live).to_be_hidden()  # the live board waits, untouched
        # The keyboard moves through history too, back to the first note; the list follows.
        await slider.focus()
        for _ in range(late - 1 - first):
            await page.keyboard.press("ArrowLeft")
        await expect(page.locator(".history-where")).to_contain_text(f"After change {first} of {head}")
        await expect(timeline.locator("[aria-current='step']")).to_have_attribute("data-seq", str(first))
        await expect(past.locator(".note")).to_have_count(1)
        await expect(page.locator(".history-where")).to_contain_text("phase collect")
        assert (found := await axe_violations(page)) == [], describe(found)
        await facilitator.shot("history", full_page=True)

        # An export of the moment on screen, from the board's Export menu.
        await page.get_by_text("Export", exact=True).click()
        menu = page.get_by_role("group", name=f"Download this board as it stood after change {first}")
        _, then = await download(page, menu, "md", token)
        assert b"First idea" in then and b"Second idea" not in then and b"Late idea" not in then
        await page.get_by_text("Export", exact=True).click()

        # Play it back from the start, a change at a time, until it stands as now.
        await page.get_by_label("Speed").select_option(label="5 changes a second")
        await slider.fill("1")
        await expect(past.locator(".note")).to_have_count(0)
        await page.get_by_role("button", name="Play").click()
        await expect(page.get_by_role("button", name="Pause")).to_be_visible()
        await expect(past.locator(".note", has_text="First idea")).to_be_visible()
        await expect(past.locator(".note")).to_have_count(2)
        await expect(page.locator(".history-where")).to_contain_text(f"After change {head} of {head}")
        await expect(page.get_by_role("button", name="Play")).to_be_visible()  # it stops at the end
        await expect(past.locator(".note")).to_have_count(3)
        await expect(page.get_by_role("button", name="Next change")).to_have_attribute("aria-disabled", "true")
        assert (found := await axe_violations(page)) == [], describe(found)

        await page.get_by_role("button", name="Back to the live board").click()
        await expect(history).to_be_hidden()
        await expect(history_button).to_be_focused()
        await expect(facilitator.section(SECTION).locator(".note")).to_have_count(3)
        await expect(page.get_by_role("region", name="Facilitator tools")).to_be_visible()

        # Every export, of the room and of the whole event, from the dashboard.
        await page.get_by_role("link", name="All rooms").click()
        event_group = page.get_by_role("group", name="The whole event")
        room_group = page.get_by_role("group", name="One room")
        await room_group.get_by_label("Room", exact=True).select_option(label="Room 1")
        for fmt in FORMATS:
            _, content = await download(page, room_group, fmt, token)
            if fmt != "pptx":
                assert b"Late idea" in content, fmt  # a room export holds every note of the room
        for fmt in FORMATS:
            name, content = await download(page, event_group, fmt, token)
            assert name.startswith(event["event_id"]), name
            if fmt != "pptx":
                assert b"First idea" in content and b"Late idea" not in content, fmt  # room-only notes stay home
        await event_group.get_by_label("Audience").select_option("public")
        name, content = await download(page, event_group, "md", token)
        assert name.endswith("-public.md") and b"Second idea" in content and b"First idea" not in content
        assert (found := await axe_violations(page)) == [], describe(found)
