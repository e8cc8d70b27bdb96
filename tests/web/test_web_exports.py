"""From the dashboard: the event's details filled in, the deck previewed in the page as it stood at the end of the
vote, and downloaded as of that moment."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from webtools import Api, axe_violations, describe, open_person

from boards import Event, board_client, call
from workshop import settle

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTION = "How can we move beyond hero stories and help understand and learn from failure?"
BEFORE = "Have a 'failure session' at each team meeting"
AFTER = "Written after the vote closed: start a failure reading group"


async def test_a_facilitator_previews_and_downloads_the_deck_as_it_stood_at_the_end_of_the_vote(
    api: Api, web_server: Any, browser: Browser
) -> None:
    created = await api.create_event("Beyond Hero Stories", rooms=1)
    event = Event(web_server, created)
    room = event.breakouts[0]
    writer = await api.join(created)
    async with board_client(event, room, event.facilitator, "facilitator") as fac:
        async with board_client(event, room, writer["token"], writer["participant"]) as person:
            await person.add_note(BEFORE, section="practical-ideas", scope="event")
            await settle(person)
            for phase in ("vote", "done", "cluster"):  # the vote closes, then the room opens again for a late idea
                await fac.set_meta(phase=phase)
                await settle(fac)
            await person.add_note(AFTER, section="practical-ideas", scope="event")
            await settle(person)

    facilitator = await open_person(browser, "facilitator", created["facilitator_url"])
    try:
        page = facilitator.page
        form = page.get_by_role("form", name="About the event (shown first in the event export)")
        await form.get_by_label("The question the session asked").fill(QUESTION)
        await form.get_by_label("Who ran it").fill("Sarah Morton: Director and founder of Matter of Focus")
        await form.get_by_label("How many took part").fill("45")
        await form.get_by_role("button", name="Save the details").click()
        await expect(form.get_by_role("status")).to_have_text("Saved. The next event export shows them.")
        stored = await asyncio.to_thread(
            call, web_server, "GET", f"/api/events/{event.id}/details", token=event.facilitator
        )
        assert stored.body["details"] == {
            "question": QUESTION,
            "facilitators": [{"name": "Sarah Morton", "about": "Director and founder of Matter of Focus"}],
            "participants": 45,
        }

        group = page.get_by_role("group", name="The whole event")
        await group.get_by_label("Moment").select_option(label="End of the vote")
        await group.get_by_role("button", name="Preview the slides").click()
        preview = page.get_by_role("region", name="Slide preview")
        await expect(preview).to_be_visible()
        deck = page.frame_locator(".export-preview-frame")
        await expect(deck.locator("#slide-1")).to_contain_text(QUESTION)
        await expect(deck.locator("#slide-1")).to_contain_text("as it stood at the end of the vote")
        await expect(deck.locator("section", has_text="Sarah Morton")).to_have_count(1)
        await expect(deck.locator("li.note", has_text=BEFORE)).to_have_count(1)
        await expect(deck.locator("li.note", has_text=AFTER)).to_have_count(0)  # written after the vote closed
        await page.keyboard.press("ArrowRight")  # the deck has the keyboard: the next slide
        await expect(deck.locator("#slide-2")).to_be_visible()
        await expect(deck.locator("#slide-1")).to_be_hidden()
        await preview.scroll_into_view_if_needed()
        await facilitator.shot("dashboard-export-preview")
        assert (found := await axe_violations(page)) == [], describe(found)

        async with page.expect_download() as downloaded:
            await group.get_by_role("button", name="Markdown (.md)").click()
        file = await downloaded.value
        assert file.suggested_filename == f"{event.id}-end-of-vote.md"
        text = (await asyncio.to_thread(Path(await file.path()).read_text)).replace("\\", "")
        assert BEFORE in text and AFTER not in text and QUESTION in text

        await group.get_by_label("Moment").select_option(label="A time…")
        await group.get_by_role("button", name="Markdown (.md)").click()
        await expect(group.get_by_role("status")).to_have_text("Choose the time to export the event as it stood then.")
        await preview.get_by_role("button", name="Close the preview").click()
        await expect(preview).to_be_hidden()
        await expect(group.get_by_role("button", name="Preview the slides")).to_be_focused()
    finally:
        await facilitator.close()
