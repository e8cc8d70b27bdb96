"""The facilitator's view of a whole event: every room live, broadcasts, and bringing notes to the plenary."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from webtools import Api, axe_violations, board_url, describe, open_person, people, wait_connected

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECTION = "practical-ideas"


async def test_dashboard_follows_every_room_and_broadcasts_to_all_of_them(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("Engage unconference", rooms=2)
    base = web_server.http_url
    room1, room2 = event["rooms"][1]["id"], event["rooms"][2]["id"]
    one, two = await api.join(event, "Ada"), await api.join(event)
    specs = [("ada", board_url(base, room1, one["token"])), ("other", board_url(base, room2, two["token"]))]
    async with people(browser, *specs) as (ada, other):
        facilitator = await open_person(browser, "facilitator", event["facilitator_url"])
        try:
            page = facilitator.page
            cards = page.locator(".room-card")
            await expect(cards).to_have_count(3)
            room1_card = cards.filter(has_text="Room 1")
            await expect(room1_card).to_contain_text("1 person here")
            await ada.add_note(SECTION, "Celebrate the learning, not only the result")
            await expect(room1_card).to_contain_text("1 note")
            await expect(room1_card).to_contain_text("Practical ideas for moving beyond hero stories: 1")
            await expect(cards.filter(has_text="Plenary")).to_contain_text("0 people here")
            assert (found := await axe_violations(page)) == [], describe(found)
            await facilitator.shot("dashboard", full_page=True)

            await page.get_by_label("Phase").select_option("vote")
            await page.get_by_role("button", name="Set phase everywhere").click()
            # Changing every room at once is asked first, saying what it does; cancelling changes nothing.
            ask = page.get_by_role("dialog", name="Phase set to Vote in every room?")
            await expect(ask).to_contain_text("all 3 rooms")
            await expect(ask).to_contain_text("reveal their private notes")
            assert (found := await axe_violations(page)) == [], describe(found)
            await ask.get_by_role("button", name="Cancel").click()
            await expect(ask).to_have_count(0)
            await page.wait_for_timeout(300)
            await expect(ada.page.locator(".phase")).to_have_text("Phase: Collect")
            await page.get_by_role("button", name="Set phase everywhere").click()
            await ask.get_by_role("button", name="Phase set to Vote everywhere").click()
            for person in (ada, other):
                await expect(person.page.locator(".phase")).to_have_text("Phase: Vote")
            await page.get_by_label("Timer").select_option(label="3 min")
            await page.get_by_role("button", name="Start timer everywhere").click()
            await page.get_by_role("button", name="Timer started everywhere").click()
            for person in (ada, other):
                await expect(person.page.locator(".timer")).to_have_text(re.compile(r"Time left 0[23]:\d\d"))
            await page.get_by_role("button", name="Lock all boards", exact=True).click()
            await page.get_by_role("button", name="Boards locked everywhere").click()
            await expect(other.page.locator(".banner.locked")).to_be_visible()

            await page.get_by_role("link", name="Open room: Room 1").click()
            await expect(page.locator(".board-subtitle")).to_contain_text("Room 1")
            await expect(page.get_by_role("region", name="Facilitator tools")).to_be_visible()
            await expect(page.locator(".phase")).to_have_text("Phase: Vote · Locked")
        finally:
            await facilitator.close()


async def test_facilitator_brings_shared_notes_to_the_plenary_showing_their_room(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("Engage unconference", rooms=2)
    base = web_server.http_url
    room1 = event["rooms"][1]["id"]
    plenary = next(r["id"] for r in event["rooms"] if r["kind"] == "plenary")
    ada = await api.join(event, "Ada")
    specs = [
        ("facilitator", board_url(base, room1, event["facilitator_token"])),
        ("ada", board_url(base, room1, ada["token"])),
        ("projector", event["viewer_url"]),
    ]
    async with people(browser, *specs) as (facilitator, author, projector):
        await expect(projector.page.locator(".board-subtitle")).to_contain_text("Plenary")
        await author.add_note(SECTION, "Make space to debrief", scope="event", sign=True)
        await author.add_note(SECTION, "Name the power in the room", scope="event")
        await author.add_note(SECTION, "Only for this room", scope="room")

        await facilitator.note("Only for this room").get_by_role("button", name="More actions for note").click()
        dialog = facilitator.page.get_by_role("dialog")
        await expect(dialog.get_by_role("button", name="Copy to plenary")).to_be_disabled()
        await expect(dialog).to_contain_text("kept this note in this room")
        await dialog.get_by_role("button", name="Close").click()

        await facilitator.note("Make space to debrief").get_by_role("button", name="More actions for note").click()
        await dialog.get_by_role("button", name="Copy to plenary").click()
        await expect(dialog).to_be_hidden()
        await facilitator.note("Name the power").get_by_role("button", name="More actions for note").click()
        await dialog.get_by_role("button", name="Move to plenary").click()
        await expect(dialog).to_be_hidden()

        copied = projector.note("Make space to debrief")
        await expect(copied).to_contain_text("From Room 1")
        await expect(copied).to_contain_text("Ada")
        await expect(projector.note("Name the power")).to_contain_text("From Room 1")
        await expect(projector.note("Only for this room")).to_have_count(0)
        await expect(author.note("Make space to debrief")).to_be_visible()  # a copy leaves the original
        await expect(author.note("Name the power")).to_have_count(0)  # a move does not
        stored = await api.board(plenary, event["facilitator_token"])
        assert {n["from_room"] for n in stored["notes"].values()} == {room1}
        await projector.shot("projector-plenary")


async def test_on_any_device_the_dashboard_shares_the_links_and_revokes_participant_access(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("Revocable", rooms=1)
    base = web_server.http_url
    old_code = event["join_code"]
    priya = await open_person(browser, "priya", f"{base}/")
    # A fresh browser context: nothing of the event is remembered there, the server gives the links.
    facilitator = await open_person(browser, "facilitator", event["facilitator_url"])
    sockets: list[Any] = []
    priya.page.on("websocket", lambda ws: sockets.append(ws))
    try:
        # Priya joins with the code alone and takes her place in Room 1.
        await priya.page.get_by_label("Join code (or paste the join link)").fill(old_code)
        await priya.page.get_by_role("button", name="Continue").click()
        await priya.page.get_by_label("I agree to these ground rules").check()
        await priya.page.get_by_role("button", name="Join the session").click()
        await priya.page.get_by_role("link", name="Room 1").click()
        await wait_connected(priya)

        page = facilitator.page
        await facilitator.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        await expect(page.locator(".header-code")).to_have_text(f"Join code {old_code}")
        links = page.locator(".share-link")
        await expect(links).to_have_count(3)
        await expect(page.locator(".join-code strong")).to_have_text(old_code)
        await expect(links.nth(0).locator("input")).to_have_value(event["join_url"])
        old_projector = await links.nth(1).locator("input").input_value()
        assert re.search(r"/board/.+\?token=", old_projector), old_projector
        await expect(links.nth(2).locator("input")).to_have_value(event["facilitator_url"])
        await expect(page.get_by_role("img", name="QR code of the participant join link")).to_be_visible()
        await page.get_by_role("button", name="Copy the participant join link").click()
        assert await page.evaluate("navigator.clipboard.readText()") == event["join_url"]
        await expect(page.get_by_role("group", name="The whole event")).to_be_visible()
        await expect(page.locator(".room-card", has_text="Room 1")).to_contain_text("1 person here")
        assert (found := await axe_violations(page)) == [], describe(found)
        await facilitator.shot("dashboard-links", full_page=True)

        # Revoking asks first, and says what it does to everyone; cancelling changes nothing.
        revoke = page.get_by_role("button", name="Revoke participant access")
        await revoke.focus()
        await page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name="Revoke participant access?")
        await expect(dialog).to_contain_text("Everyone must rejoin with the new code")
        await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        assert (found := await axe_violations(page)) == [], describe(found)
        await facilitator.shot("dashboard-revoke-dialog")
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await expect(revoke).to_be_focused()
        await expect(page.locator(".join-code strong")).to_have_text(old_code)

        await revoke.click()
        await dialog.get_by_role("button", name="Revoke and make a new code").click()
        await expect(dialog).to_be_hidden()
        await expect(page.locator(".join-code strong")).not_to_have_text(old_code)
        new_code = await page.locator(".join-code strong").text_content() or ""
        assert re.fullmatch(r"[A-Z2-9]{6}", new_code), new_code
        await expect(page.locator(".revoke-done")).to_contain_text(f"The new join code is {new_code}")
        await expect(page.locator(".header-code")).to_have_text(f"Join code {new_code}")
        await expect(links.nth(0).locator("input")).to_have_value(re.compile(rf"\?code={new_code}$"))
        await expect(links.nth(1).locator("input")).not_to_have_value(old_projector)
        await expect(revoke).to_be_focused()

        # Priya is told why she is out, and her page does not keep knocking.
        await expect(priya.page.get_by_role("alert")).to_contain_text(
            "The facilitator revoked access; ask for the new code"
        )
        await expect(priya.page.locator(".status")).to_have_attribute("data-status", "closed")
        opened = len(sockets)
        await priya.page.wait_for_timeout(1500)
        assert len(sockets) == opened, f"{len(sockets) - opened} reconnection attempts after the revocation"
        await priya.shot("board-revoked")

        # The old code is gone; with the new one she reads the agreement again (her old token is forgotten).
        await priya.page.get_by_role("link", name="Join with the new code").click()
        code_field = priya.page.get_by_label("Join code (or paste the join link)")
        await code_field.fill(old_code)
        await priya.page.get_by_role("button", name="Continue").click()
        await expect(priya.page.get_by_role("alert")).to_contain_text(f"No session has the code {old_code}")
        await code_field.fill(new_code.lower())
        await priya.page.get_by_role("button", name="Continue").click()
        await expect(priya.page.get_by_role("heading", name="Relational agreement")).to_be_visible()
        assert not priya.errors, priya.errors
        assert not facilitator.errors, facilitator.errors
    finally:
        await facilitator.close()
        await priya.close()
