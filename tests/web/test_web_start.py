"""The start page and joining: create an event and share it; join with the code, agree, choose a room."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from webtools import Api, axe_violations, describe, open_person, wait_connected

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_facilitator_creates_an_event_and_gets_links_to_share(web_server: Any, browser: Browser) -> None:
    facilitator = await open_person(browser, "facilitator", f"{web_server.http_url}/")
    try:
        page = facilitator.page
        await facilitator.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web_server.http_url)
        await expect(page.get_by_role("heading", name="Run a session")).to_be_visible()
        await expect(page.get_by_label("Template")).to_contain_text("Failure story interview")
        assert (found := await axe_violations(page)) == [], describe(found)
        await facilitator.shot("start")

        await page.get_by_label("Title").fill("Beyond hero stories — Engage 2026")
        await page.get_by_label("Template").select_option(label="Failure story interview")
        await page.get_by_label("Breakout rooms").fill("4")
        await page.get_by_role("button", name="Create event").click()
        await expect(page.get_by_role("heading", name=re.compile("is ready"))).to_be_focused()
        code = (await page.locator(".join-code strong").text_content()) or ""
        assert re.fullmatch(r"[A-Z2-9]{6}", code), code
        links = page.locator(".share-link")
        await expect(links).to_have_count(3)
        join_url = await links.nth(0).locator("input").input_value()
        assert re.search(rf"/join/ev[0-9a-f]+\?code={code}$", join_url), join_url
        assert "/board/" in await links.nth(1).locator("input").input_value()
        assert "/event/" in await links.nth(2).locator("input").input_value()
        await expect(page.get_by_role("img", name="QR code of the participant join link")).to_be_visible()
        await links.nth(1).get_by_text("Show QR code").click()
        await expect(page.get_by_role("img", name="QR code of the projector link")).to_be_visible()
        await page.get_by_role("button", name="Copy the participant join link").click()
        assert await page.evaluate("navigator.clipboard.readText()") == join_url
        assert (found := await axe_violations(page)) == [], describe(found)
        await facilitator.shot("start-created", full_page=True)

        await page.get_by_role("link", name="Open the facilitator dashboard").click()
        await expect(page.locator(".room-card")).to_have_count(5)
        await expect(page.get_by_role("heading", name=re.compile("Engage 2026"))).to_be_visible()
        await expect(page.locator(".share-link")).to_have_count(3)
        await expect(page.locator(".join-code strong")).to_have_text(code)
        assert not facilitator.errors, facilitator.errors
    finally:
        await facilitator.close()


async def test_joining_asks_for_the_ground_rules_and_an_optional_name(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("Engage unconference")
    person = await open_person(browser, "priya", f"{web_server.http_url}/")
    try:
        page = person.page
        # From the start page, with only the code the facilitator reads out (any case, any spacing).
        code = event["join_code"]
        await page.get_by_label("Join code (or paste the join link)").fill(f" {code[:3].lower()} {code[3:]} ")
        await page.get_by_role("button", name="Continue").click()
        await expect(page).to_have_url(re.compile(rf"/join/{event['event_id']}\?code={code}$"))
        await expect(page.get_by_role("heading", name="Relational agreement")).to_be_visible()
        await expect(page.locator(".agreement li")).to_have_count(4)
        await expect(page.locator(".agreement")).to_contain_text("Not to share identifiable details")
        assert (found := await axe_violations(page)) == [], describe(found)
        await person.shot("join")

        await page.get_by_role("button", name="Join the session").click()
        await expect(page.get_by_role("alert")).to_contain_text("agree to the ground rules")
        await page.get_by_label("I agree to these ground rules").check()
        await page.get_by_label("Your name (optional)").fill("Priya")
        await page.get_by_role("button", name="Join the session").click()
        await expect(page.get_by_role("heading", name=re.compile("Choose your room"))).to_be_visible()
        await expect(page.locator(".room-link")).to_have_count(3)
        assert (found := await axe_violations(page)) == [], describe(found)
        await person.shot("join-rooms")

        await page.get_by_role("link", name="Room 2").click()
        await wait_connected(person)
        assert "token=" not in page.url  # the participant's token stays out of the address bar
        await expect(page.locator(".board-subtitle")).to_contain_text("Room 2")
        await person.add_note(
            "practical-ideas", "Share one failure story at every team meeting", sign=True, scope="public"
        )
        await expect(person.note("every team meeting")).to_contain_text("You (signed) · Public")
        stored = await api.board(event["rooms"][2]["id"], event["facilitator_token"])
        (note,) = stored["notes"].values()
        assert note["author_name"] == "Priya" and note["scope"] == "public" and note["author"].startswith("u-")
        assert not person.errors, person.errors
    finally:
        await person.close()


async def test_a_wrong_join_code_is_explained(api: Api, web_server: Any, browser: Browser) -> None:
    event = await api.create_event()
    person = await open_person(browser, "lost", f"{web_server.http_url}/")
    try:
        page = person.page
        code_field = page.get_by_label("Join code (or paste the join link)")
        await code_field.fill("K7PQ")
        await page.get_by_role("button", name="Continue").click()
        await expect(page.get_by_role("alert")).to_contain_text("A join code has 6 letters and digits")
        await expect(code_field).to_be_focused()
        await code_field.fill("zzzzz1")  # no code has a 1: it looks too much like an I
        await page.get_by_role("button", name="Continue").click()
        await expect(page.get_by_role("alert")).to_contain_text("No session has the code ZZZZZ1")
        await expect(code_field).to_have_attribute("aria-invalid", "true")
        # A pasted join link goes straight to its event.
        await code_field.fill(event["join_url"])
        await page.get_by_role("button", name="Continue").click()
        await expect(page.get_by_role("heading", name="Relational agreement")).to_be_visible()

        await page.goto(f"{web_server.http_url}/join/{event['event_id']}?code=WRONG1")
        await expect(person.page.get_by_role("alert")).to_contain_text("join code is not valid")
        await person.page.get_by_label("Join code").fill(event["join_code"])
        await person.page.get_by_role("button", name="Try this code").click()
        await expect(person.page.get_by_role("heading", name="Relational agreement")).to_be_visible()
    finally:
        await person.close()


async def test_a_broken_link_is_explained_and_not_retried_forever(api: Api, web_server: Any, browser: Browser) -> None:
    event = await api.create_event()
    token = event["viewer_token"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for room, message in (
        (event["rooms"][1]["id"], "This link is not valid any more"),
        (f"{event['event_id']}-r99", "This board does not exist"),
    ):
        url = f"{web_server.http_url}/board/{room}?token={forged if room == event['rooms'][1]['id'] else token}"
        person = await open_person(browser, "projector", "")
        sockets: list[Any] = []
        person.page.on("websocket", lambda ws, opened=sockets: opened.append(ws))
        try:
            await person.page.goto(url)
            await expect(person.page.get_by_role("alert")).to_contain_text(message)
            await expect(person.page.locator(".status")).to_have_attribute("data-status", "closed")
            await person.page.wait_for_timeout(1500)
            assert len(sockets) == 1, f"{len(sockets)} connection attempts for {room}"
        finally:
            await person.close()
