"""Phones first: at 360-414 px nothing scrolls sideways and every target is at least 44 px; every page at
390x844, 1366x768 and 1920x1080 has no accessibility violation of any impact (and a screenshot to look at)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from webtools import Api, Person, axe_violations, board_url, confirm_reveal, describe, open_person, wait_connected

from seed_notes import seed_notes

pytestmark = pytest.mark.asyncio(loop_scope="module")

PHONE = {"width": 390, "height": 844}
SIZES = {"390": PHONE, "1366": {"width": 1366, "height": 768}, "1920": {"width": 1920, "height": 1080}}
WIDTHS = (360, 390, 414)
IDEAS = "practical-ideas"

SMALL_TARGETS = """() => {
    const small = []
    const targets = 'button, a.button, .brand a, select, input, textarea, summary, label.check, .segment span, .swatch'
    for (const el of document.querySelectorAll(targets)) {
        if (el.matches('input[type=checkbox], input[type=radio]')) continue  // their label is the target
        if (el.closest('[inert]')) continue
        const r = el.getBoundingClientRect()
        if (r.width <= 1 || r.height <= 1) continue  // not shown
        const name = (el.textContent || el.value || '').trim().slice(0, 30)
        if (r.height < 43.5 || r.width < 43.5) small.push(`${el.tagName} "${name}" ${r.width | 0}x${r.height | 0}`)
    }
    return small
}"""


async def check_phone(page: Page, what: str) -> int:
    """No sideways scrolling at 360-414 px and no target under 44 px; the widest page width seen."""
    widest = 0
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": PHONE["height"]})
        await page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        scroll = await page.evaluate("document.documentElement.scrollWidth")
        widest = max(widest, scroll)
        assert scroll <= width, f"{what} scrolls sideways at {width} px: the page is {scroll} px wide"
        small = await page.evaluate(SMALL_TARGETS)
        assert small == [], f"{what} at {width} px has targets under 44 px: {small}"
    await page.set_viewport_size(PHONE)
    return widest


async def check_everywhere(person: Person, name: str, *, full_page: bool = True) -> None:
    """At each of the three sizes: no axe violation of any impact, and a screenshot."""
    for size, viewport in SIZES.items():
        await person.page.set_viewport_size(viewport)
        found = await axe_violations(person.page)
        assert found == [], f"{name} at {size}: {describe(found)}"
        await person.shot(f"{name}-{size}", full_page=full_page and size == "390")
    await person.page.set_viewport_size(PHONE)


async def test_a_phone_creates_joins_writes_and_votes_without_sideways_scrolling(
    api: Api, web_server: Any, browser: Browser
) -> None:
    base = web_server.http_url
    widest: dict[str, int] = {}
    facilitator = await open_person(browser, "facilitator", f"{base}/", viewport=PHONE)
    noor = await open_person(browser, "noor", "", viewport=PHONE)
    try:
        page = facilitator.page
        # The start page says plainly that phones cannot open this server's links yet, and how to fix it.
        warning = page.locator(".reach-warning")
        await expect(warning).to_contain_text("Phones and other computers cannot open these links yet")
        await expect(warning).to_contain_text("./scripts/serve --host 0.0.0.0")
        widest["start"] = await check_phone(page, "start page")
        await check_everywhere(facilitator, "start")
        await page.get_by_label("Title").fill("Beyond hero stories")
        await page.get_by_label("Breakout rooms").fill("2")
        await page.get_by_role("button", name="Create event").click()
        await expect(page.get_by_role("heading", name=re.compile("is ready"))).to_be_focused()
        await expect(page.locator(".created .reach-warning")).to_be_visible()
        widest["created"] = await check_phone(page, "created event with its links")
        await check_everywhere(facilitator, "start-created")
        join_url = await page.locator(".share-link input").first.input_value()
        dashboard = await page.get_by_role("link", name="Open the facilitator dashboard").get_attribute("href")
        assert dashboard is not None

        # Noor joins on her phone: the agreement, then the room picker.
        await noor.page.goto(join_url)
        await expect(noor.page.get_by_role("heading", name="Relational agreement")).to_be_visible()
        widest["join"] = await check_phone(noor.page, "join page")
        await check_everywhere(noor, "join")
        await noor.page.get_by_label("I agree to these ground rules").check()
        await noor.page.get_by_label("Your name (optional)").fill("Noor")
        await noor.page.get_by_role("button", name="Join the session").click()
        await expect(noor.page.get_by_role("heading", name=re.compile("Choose your room"))).to_be_visible()
        await expect(noor.page.get_by_role("button", name="Join again as someone else")).to_be_visible()
        widest["room picker"] = await check_phone(noor.page, "room picker")
        await check_everywhere(noor, "room-picker")
        await noor.page.get_by_role("link", name="Room 1").click()
        await wait_connected(noor)

        # The composer: scope as a short list of choices, no keyboard help on a phone.
        board = noor.page
        await expect(board.get_by_text("Keyboard", exact=True)).to_be_hidden()
        await noor.section(IDEAS).get_by_role("button", name=re.compile("Add note to")).click()
        await board.get_by_label("Note text").fill(seed_notes()[4][1])
        await board.get_by_role("radio", name=re.compile("Whole event")).check()
        widest["composer"] = await check_phone(board, "composer")
        await check_everywhere(noor, "composer", full_page=False)
        await board.get_by_role("button", name="Add note", exact=True).click()
        await board.get_by_role("button", name="Cancel").click()
        await expect(noor.note(seed_notes()[4][1])).to_contain_text("Whole event")

        # Voting on the phone: the budget is shown, totals are not.
        await page.goto(dashboard)
        await expect(page.locator(".reach-warning")).to_contain_text("cannot open these links yet")
        room1 = page.locator(".room-card", has_text="Room 1")
        await expect(room1).to_contain_text("1 note")
        widest["dashboard"] = await check_phone(page, "dashboard")
        await check_everywhere(facilitator, "dashboard")
        await room1.get_by_role("link", name="Open room: Room 1").click()
        await wait_connected(facilitator)
        await page.get_by_role("radio", name="Vote").check()
        widest["reveal dialog"] = await check_phone(page, "reveal confirmation")
        await facilitator.shot("reveal-dialog-390")
        await confirm_reveal(page)
        await expect(board.locator(".budget")).to_contain_text("You have 5 dots left of 5")
        await noor.note(seed_notes()[4][1]).get_by_role("button", name="Give dot to this note").click()
        await expect(board.locator(".budget")).to_contain_text("You have 4 dots left of 5")
        widest["voting"] = await check_phone(board, "voting")
        await check_everywhere(noor, "voting", full_page=False)
        widest["facilitator board"] = await check_phone(page, "facilitator board")
        await check_everywhere(facilitator, "facilitator-board", full_page=False)
        print("widest page at 360-414 px:", widest)
        assert max(widest.values()) <= max(WIDTHS)
        for person in (facilitator, noor):
            assert not person.errors, person.errors
    finally:
        await facilitator.close()
        await noor.close()


async def test_the_projector_and_its_room_picker_pass_axe_at_every_size(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("Projected", rooms=1)
    room = event["rooms"][1]["id"]
    joined = await api.join(event, "Ada")
    writer = await open_person(browser, "writer", board_url(web_server.http_url, room, joined["token"]))
    screen = await open_person(browser, "screen", board_url(web_server.http_url, room, event["viewer_token"]))
    try:
        await wait_connected(writer)
        for section, text in seed_notes(6):
            if section in ("define-the-problem", "reverse-the-problem", IDEAS, "what-next"):
                await writer.add_note(section, text)
        await wait_connected(screen)
        await expect(screen.page.locator(".projector-stage .note")).not_to_have_count(0)
        await check_everywhere(screen, "projector", full_page=False)
    finally:
        await writer.close()
        await screen.close()
