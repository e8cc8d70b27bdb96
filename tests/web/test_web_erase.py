"""A server that asks for its creation token and keeps boards 30 days: the start page, joining and erasing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from webtools import ARTIFACTS, CHROMIUM, Api, axe_violations, board_url, describe, open_person, people

pytestmark = pytest.mark.asyncio(loop_scope="module")

CREATE_TOKEN = "engage-2026-facilitators"
RETENTION = re.compile(r"erased from the server 30 days after the event's last activity")
NOTE = "Feel that there is space to debrief."


@pytest.fixture(scope="module")
def web_server(make_module_server: Any) -> Any:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup --test installs Debian's chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    return make_module_server("--create-token", CREATE_TOKEN, "--retain-days", "30", open_rooms=False)


async def test_the_start_page_asks_for_the_creation_token_and_announces_the_retention(
    web_server: Any, browser: Browser
) -> None:
    facilitator = await open_person(browser, "facilitator", f"{web_server.http_url}/")
    try:
        page = facilitator.page
        await expect(page.locator("#retention")).to_have_text(RETENTION)
        token = page.get_by_label("Creation token")
        await expect(token).to_be_visible()
        await page.get_by_label("Title").fill("Beyond hero stories — Engage 2026")
        await page.get_by_role("button", name="Create event").click()
        await expect(page.get_by_role("alert")).to_have_text("Type the creation token of this server.")
        await expect(token).to_be_focused()
        await token.fill("a guess")
        await page.get_by_role("button", name="Create event").click()
        await expect(page.get_by_role("alert")).to_contain_text("that creation token is not this server's")
        assert (found := await axe_violations(page)) == [], describe(found)
        await facilitator.shot("start-create-token")
        await token.fill(CREATE_TOKEN)
        await page.get_by_role("button", name="Create event").click()
        await expect(page.get_by_role("heading", name=re.compile("is ready"))).to_be_focused()
        assert not facilitator.errors, facilitator.errors
    finally:
        await facilitator.close()


async def test_participants_accept_the_retention_with_the_ground_rules(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("Engage unconference", rooms=1, create_token=CREATE_TOKEN)
    person = await open_person(browser, "ada", event["join_url"])
    try:
        items = person.page.locator(".agreement li")
        await expect(items.first).to_contain_text("Not to share identifiable details")
        await expect(items.last).to_have_text(RETENTION)
        await person.shot("join-retention")
    finally:
        await person.close()


async def test_the_facilitator_erases_the_event_after_a_confirmation_that_says_what_it_means(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("To be erased", rooms=1, create_token=CREATE_TOKEN)
    ada = await api.join(event, "Ada")
    room = next(r["id"] for r in event["rooms"] if r["kind"] == "breakout")
    async with people(browser, ("ada", board_url(web_server.http_url, room, ada["token"]))) as (participant,):
        await participant.add_note("define-the-problem", NOTE)
        facilitator = await open_person(browser, "facilitator", event["facilitator_url"])
        try:
            page = facilitator.page
            await expect(page.locator(".room-card", has_text="Room 1")).to_contain_text("1 note")
            erase = page.get_by_role("button", name="Erase this event")
            await erase.click()
            dialog = page.get_by_role("dialog", name="Erase this event?")
            await expect(dialog).to_contain_text(
                "Erasing deletes every board of this event, with all its notes, votes, drafts and links, "
                "from the server for good"
            )
            await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
            assert (found := await axe_violations(page)) == [], describe(found)
            await facilitator.shot("dashboard-erase-dialog")
            await dialog.get_by_role("button", name="Cancel").click()
            await expect(dialog).to_be_hidden()
            assert (await api.board(room, event["facilitator_token"]))["notes"]  # cancelling erased nothing

            await erase.click()
            await dialog.get_by_role("button", name="Erase the event for good").click()
            await expect(page.get_by_role("heading", name="The event was erased")).to_be_focused()
            await facilitator.shot("dashboard-erased")
            await expect(participant.page.get_by_role("alert")).to_contain_text("This board does not exist")
            await expect(participant.page.get_by_role("alert")).to_contain_text("the facilitator erased this event")
            await participant.shot("board-erased")
            assert not facilitator.errors, facilitator.errors
        finally:
            await facilitator.close()
    with pytest.raises(AssertionError, match="404"):
        await api.board(room, event["facilitator_token"])
