"""Consent and the console in the browser: drafts counted not read, withdraw and purge, ideas to the plenary."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from webtools import Api, axe_violations, board_url, confirm_reveal, describe, open_person, people

pytestmark = pytest.mark.asyncio(loop_scope="module")

PRIVATE = "what-did-you-do"
PUBLIC = "define-the-problem"
IDEAS = "practical-ideas"
DRAFT = "Were there capacity or resource failures? Two of us left in the first month"
REGRET = "Ownership of outcomes can be in conflict with ownership of learning: my funder wanted the former"
IDEA = "Get funders to request a section in reports about what went wrong"


async def test_a_session_from_private_drafts_to_purge_and_the_plenary(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("Consent in the room", rooms=2)
    base = web_server.http_url
    room1 = event["rooms"][1]["id"]
    plenary = next(r["id"] for r in event["rooms"] if r["kind"] == "plenary")
    ada = await api.join(event, "Ada")
    specs = [
        ("facilitator", board_url(base, room1, event["facilitator_token"])),
        ("ada", board_url(base, room1, ada["token"])),
        ("hall", board_url(base, plenary, event["viewer_token"])),
    ]
    async with people(browser, *specs) as (facilitator, author, hall):
        console = await open_person(browser, "console", event["facilitator_url"])
        try:
            dash = console.page
            card = dash.locator(".room-card", has_text="Room 1")
            # Private work shows as counts: on the dashboard and on the facilitator's board, never its text.
            await author.add_note(PRIVATE, DRAFT)
            await expect(card.locator(".drafts-figure")).to_have_text("1 private draft in progress, by 1 person")
            await expect(card).to_contain_text("What did you do?: 0 (+1 private draft)")
            await expect(card).to_contain_text("Phase: Collect")
            await expect(facilitator.section(PRIVATE).locator(".count")).to_have_text(
                "0 notes · 1 private draft in progress"
            )
            await expect(dash.get_by_text(DRAFT)).to_have_count(0)
            await expect(facilitator.page.get_by_text(DRAFT)).to_have_count(0)

            # Ada withdraws a note she regrets: it leaves the board for everyone else; she may put it back.
            await author.add_note(PUBLIC, REGRET, scope="event")
            await author.add_note(IDEAS, IDEA, scope="event", sign=True)
            await expect(facilitator.note(REGRET)).to_be_visible()
            await author.note(REGRET).get_by_role("button", name=re.compile("^Withdraw note")).click()
            await expect(facilitator.note(REGRET)).to_have_count(0)
            mine = author.note(REGRET)
            await expect(mine).to_contain_text("You withdrew this note")
            await expect(mine.get_by_role("button", name="Put this note back on the board")).to_be_visible()
            await expect(author.section(PUBLIC).locator(".count")).to_have_text("0 notes")
            stored = await api.board(room1, event["facilitator_token"])
            assert [n["withdrawn"] for n in stored["notes"].values() if n["text"] == REGRET] == [True]
            await author.shot("board-withdrawn-note")

            # The dashboard offers the purge, says in one sentence what it means, and asks first.
            block = card.locator(".withdrawn-block")
            await expect(block).to_contain_text("1 note withdrawn by its author")
            await expect(block).to_contain_text("Purging erases the text of withdrawn notes")
            assert (found := await axe_violations(dash)) == [], describe(found)
            await block.get_by_role("button", name="Purge withdrawn notes").click()
            ask = dash.get_by_role("dialog", name="Purge the withdrawn notes of Room 1?")
            await expect(ask).to_contain_text("cannot be undone")
            assert (found := await axe_violations(dash)) == [], describe(found)
            await console.shot("dashboard-purge-dialog")
            await ask.get_by_role("button", name="Purge for good").click()
            await expect(block).to_be_hidden()
            stored = await api.board(room1, event["facilitator_token"])
            assert all(REGRET not in n["text"] for n in stored["notes"].values())

            # Vote (revealing the draft), then the top idea goes to the plenary with its votes and room.
            await facilitator.page.get_by_role("radio", name="Vote").check()
            await confirm_reveal(facilitator.page)
            await expect(author.note(DRAFT)).not_to_contain_text("only you can see")
            for _ in range(2):
                await author.note(IDEA).get_by_role("button", name="Give dot to this note").click()
            await expect(author.page.locator(".budget")).to_contain_text("3 dots left")
            await dash.get_by_role("button", name="Show the top ideas of every room").click()
            pick = dash.get_by_role("checkbox", name=re.compile("Get funders to request"))
            await expect(pick).to_be_checked()
            await expect(dash.get_by_role("group", name="Room 1")).to_contain_text("2 votes")
            await expect(dash.get_by_role("group", name="Room 1")).not_to_contain_text(REGRET)
            await console.shot("dashboard-top-ideas", full_page=True)
            await dash.get_by_role("button", name="Send the checked ideas to the plenary").click()
            await expect(dash.locator(".ideas [role=status]")).to_contain_text("1 idea sent to the plenary")
            copied = hall.note(IDEA)
            await expect(copied).to_contain_text("From Room 1")
            await expect(copied).to_contain_text("Ada")
            await expect(copied).to_contain_text("2 votes")  # carried, and the plenary is not voting
            stored = await api.board(plenary, event["facilitator_token"])
            assert [n.get("carried_votes") for n in stored["notes"].values()] == [2]
            assert stored["votes"] == {}  # carried dots count against nobody's budget on the plenary

            # Done: the board takes no new notes.
            await facilitator.page.get_by_role("radio", name="Done").check()
            await expect(author.page.locator(".phase")).to_have_text("Phase: Done")
            await expect(author.section(IDEAS).get_by_role("button", name=re.compile("Add note to"))).to_be_hidden()
            await author.section(IDEAS).locator(".note").first.focus()
            await author.page.keyboard.press("n")
            await expect(author.page.get_by_role("status").filter(has_text="no new notes now")).to_be_visible()
            await expect(author.page.locator("form.composer")).to_have_count(0)
            assert not console.errors, console.errors
        finally:
            await console.close()
