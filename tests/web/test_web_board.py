"""The board in real browsers: participants, a facilitator and the projector on the same board."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from webtools import Api, board_url, confirm_reveal, eventually, people

pytestmark = pytest.mark.asyncio(loop_scope="module")

PUBLIC = "define-the-problem"
PRIVATE = "what-did-you-do"


async def room_people(api: Api, web_server: Any, *, names: tuple[str | None, ...] = ("Alice", None)) -> dict[str, Any]:
    event = await api.create_event("Engage unconference")
    room = event["rooms"][1]["id"]
    joined = [await api.join(event, name) for name in names]
    base = web_server.http_url
    return {
        "event": event,
        "room": room,
        "specs": [
            ("facilitator", board_url(base, room, event["facilitator_token"])),
            *[(f"p{i + 1}", board_url(base, room, j["token"])) for i, j in enumerate(joined)],
            ("projector", board_url(base, room, event["viewer_token"])),
        ],
        "joined": joined,
    }


async def test_notes_of_two_participants_converge_live_for_everyone(
    api: Api, web_server: Any, browser: Browser
) -> None:
    setup = await room_people(api, web_server)
    async with people(browser, *setup["specs"]) as (facilitator, alice, anon, projector):
        await alice.add_note(PUBLIC, "Mainly positive examples of impact are shared")
        await anon.add_note(PUBLIC, "We don't talk about failure", colour="blue", scope="event")
        for person in (facilitator, alice, anon, projector):
            await expect(person.section(PUBLIC).locator(".note")).to_have_count(2)
            await expect(person.note("Mainly positive examples")).to_be_visible()
        for person in (facilitator, alice, anon):
            await expect(person.note("talk about failure")).to_contain_text("Whole event")
        await expect(alice.note("Mainly positive")).to_contain_text("You (anonymous)")
        await expect(anon.note("Mainly positive")).to_contain_text("Anonymous")
        await expect(facilitator.note("talk about failure")).to_have_class(re.compile("c-blue"))

        # Alice edits her note from the keyboard: focus it, Enter, change the text, Enter.
        await alice.note("Mainly positive").focus()
        await alice.page.keyboard.press("Enter")
        composer = alice.section(PUBLIC).locator("form.composer")
        await composer.locator("#composer-text").fill("Mainly positive examples of impact are ever shared")
        await composer.locator("#composer-sign").check()
        await composer.locator("#composer-text").press("Enter")
        for person in (facilitator, anon, projector):
            await expect(person.note("are ever shared")).to_contain_text("Alice")

        # Nobody may edit or delete someone else's note: the buttons are only on your own.
        await expect(anon.note("are ever shared").locator("[data-act='edit']")).to_have_count(0)
        await expect(anon.note("are ever shared").locator("[data-act='delete']")).to_have_count(0)
        await expect(anon.note("talk about failure").locator("[data-act='delete']")).to_have_count(1)
        await expect(projector.page.locator("[data-act]")).to_have_count(0)
        # Presence and live cursors come from awareness.
        await expect(alice.page.locator(".presence-count")).to_have_text("4 people here (1 anonymous)")
        await alice.page.locator(".presence summary").click()
        await expect(alice.page.locator(".presence-list")).to_contain_text("Alice (you)")
        await expect(alice.page.locator(".presence-list")).to_contain_text("Projector · projector")
        await alice.page.locator(".presence summary").click()
        # With free placement (an option; notes flow by default) cursors show and notes can be moved.
        for person in (facilitator, alice, anon):
            await person.page.get_by_role("button", name="Free placement").click()
        await facilitator.section(PUBLIC).locator(".canvas").scroll_into_view_if_needed()
        box = await facilitator.section(PUBLIC).locator(".canvas").bounding_box()
        assert box is not None
        await facilitator.page.mouse.move(box["x"] + 300, box["y"] + 60, steps=4)
        await expect(alice.section(PUBLIC).locator(".cursor", has_text="Facilitator")).to_be_visible()

        # Anyone may move a note; the new place shows for everyone.
        mine = anon.note("talk about failure")
        before = await alice.note("talk about failure").evaluate("(el) => el.offsetTop")
        start = await mine.bounding_box()
        assert start is not None
        await anon.page.mouse.move(start["x"] + 40, start["y"] + 20)
        await anon.page.mouse.down()
        await anon.page.mouse.move(start["x"] + 40, start["y"] + 220, steps=6)
        await anon.page.mouse.up()
        moved = alice.note("talk about failure")
        await eventually(lambda: moved.evaluate(f"(el) => el.offsetTop > {before + 150}"), "the moved note to move")

        # Deleting your own note (Delete key) removes it for everyone, and can be undone.
        await mine.focus()
        await anon.page.keyboard.press("Delete")
        await expect(alice.note("talk about failure")).to_have_count(0)
        await anon.page.get_by_role("button", name="Undo").click()
        await expect(alice.note("talk about failure")).to_be_visible()
        await alice.shot("board-participant", full_page=False)
        await facilitator.shot("board-facilitator")
        await projector.shot("projector")


async def test_private_notes_stay_with_their_author_until_the_facilitator_reveals(
    api: Api, web_server: Any, browser: Browser
) -> None:
    setup = await room_people(api, web_server)
    async with people(browser, *setup["specs"]) as (facilitator, alice, anon, projector):
        await alice.add_note(PRIVATE, "Our plan assumed the funder's timeline")
        draft = alice.note("funder's timeline")
        await expect(draft).to_contain_text("only you can see this until the facilitator reveals")
        await alice.shot("board-private-draft")
        await anon.add_note(PUBLIC, "A visible note")  # a change everyone receives after the draft
        for person in (facilitator, anon, projector):
            await expect(person.note("A visible note")).to_be_visible()
            await expect(person.note("funder's timeline")).to_have_count(0)

        # Revealing is asked first, saying how many private notes there are; cancelling keeps them private.
        await facilitator.page.get_by_role("radio", name="Reveal").check()
        ask = facilitator.page.get_by_role("dialog", name="Reveal the private notes?")
        await expect(ask).to_contain_text("1 note written so far")
        await expect(ask.get_by_role("button", name="Cancel")).to_be_focused()
        await ask.get_by_role("button", name="Cancel").click()
        await expect(facilitator.page.get_by_role("radio", name="Collect")).to_be_checked()
        await anon.add_note(PUBLIC, "Still collecting")
        await expect(facilitator.note("Still collecting")).to_be_visible()
        await expect(anon.note("funder's timeline")).to_have_count(0)
        await facilitator.page.get_by_role("radio", name="Reveal").check()
        await ask.get_by_role("button", name="Reveal them now").click()
        for person in (facilitator, alice, anon, projector):
            await expect(person.section(PRIVATE).locator(".note", has_text="funder's timeline")).to_be_visible()
            await expect(person.page.locator(".phase")).to_have_text("Phase: Reveal")
        await expect(alice.note("funder's timeline")).not_to_contain_text("only you can see this")
        await expect(alice.note("funder's timeline").locator("[data-act='edit']")).to_have_count(1)
        await expect(anon.section(PRIVATE).locator(".badge.private")).to_be_hidden()


async def drag(page: Any, source: Any, target: Any) -> None:
    """Drag with a real pointer, in small steps, from the middle of one element onto another."""
    start = await source.bounding_box()
    end = await target.bounding_box()
    assert start is not None and end is not None
    await page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 20)
    await page.mouse.down()
    await page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=8)
    await page.mouse.up()


async def test_facilitator_clusters_labels_and_runs_a_dot_vote_that_the_projector_follows(
    api: Api, web_server: Any, browser: Browser
) -> None:
    setup = await room_people(api, web_server)
    async with people(browser, *setup["specs"]) as (facilitator, alice, anon, projector):
        await alice.add_note(PUBLIC, "Incentives reward success stories")
        await anon.add_note(PUBLIC, "Leaders never model failure")
        await anon.add_note(PUBLIC, "Funders want impact, not learning")
        await expect(facilitator.section(PUBLIC).locator(".note")).to_have_count(3)

        fac = facilitator.page
        await fac.get_by_role("radio", name="Cluster").check()
        await confirm_reveal(fac)
        await expect(alice.page.locator(".phase")).to_have_text("Phase: Cluster")
        # Clusters can be placed freely with free placement on; they are labelled groups either way.
        for person in (facilitator, alice):
            await person.page.get_by_role("button", name="Free placement").click()
        await facilitator.section(PUBLIC).get_by_role("button", name="New cluster").click()
        label = facilitator.section(PUBLIC).get_by_label("Cluster label")
        await expect(label).to_be_focused()
        await label.fill("Incentives and leadership")
        await label.press("Enter")
        cluster = facilitator.section(PUBLIC).locator(".cluster")
        seen = alice.section(PUBLIC).locator(".cluster")
        top = await seen.evaluate("(el) => el.offsetTop")
        await cluster.get_by_role("button", name="Move cluster (arrow keys)").press("Shift+ArrowDown")
        await eventually(lambda: seen.evaluate(f"(el) => el.offsetTop === {top + 64}"), "the cluster to move down")
        await cluster.get_by_role("button", name="Move cluster (arrow keys)").press("Shift+ArrowUp")
        await eventually(lambda: seen.evaluate(f"(el) => el.offsetTop === {top}"), "the cluster to move back")
        # One note with the pointer, one with the keyboard-friendly dialog.
        await drag(fac, facilitator.note("Incentives reward"), cluster)
        await expect(cluster.locator(".note")).to_have_count(1)
        await facilitator.note("Leaders never").get_by_role("button", name="More actions for note").click()
        dialog = fac.get_by_role("dialog")
        await dialog.get_by_label("Cluster").select_option(label="Incentives and leadership")
        await dialog.get_by_role("button", name="Apply").click()
        await expect(cluster.locator(".note")).to_have_count(2)
        for person in (alice, anon, projector):
            grouped = person.section(PUBLIC).locator(".cluster", has_text="Incentives and leadership")
            await expect(grouped.locator(".note")).to_have_count(2)
            await expect(grouped).to_contain_text("Leaders never model failure")
        await facilitator.shot("board-clustered")

        await fac.get_by_role("radio", name="Vote").check()
        await expect(alice.page.locator(".budget")).to_contain_text("You have 5 dots left of 5")
        give = "Give dot to this note"
        for _ in range(2):
            await alice.note("Funders want impact").get_by_role("button", name=give).click()
        await anon.note("Leaders never").get_by_role("button", name=give).click()
        await expect(alice.page.locator(".budget")).to_contain_text("You have 3 dots left of 5")
        # While people vote, totals stay hidden (nobody follows the crowd): each sees their own dots.
        await expect(alice.page.locator(".budget")).to_contain_text("Totals stay hidden until the facilitator closes")
        await expect(alice.note("Funders want impact")).to_contain_text("2 dots of yours")
        await expect(anon.note("Funders want impact").locator(".note-votes")).not_to_contain_text("vote")
        await expect(anon.note("Funders want impact").get_by_role("button", name="Take dot back")).to_be_hidden()
        await expect(facilitator.page.locator(".note", has_text="votes")).to_have_count(0)
        await fac.get_by_role("button", name="Results").click()
        await expect(fac.locator(".results")).to_contain_text("the totals appear when the facilitator closes the vote")
        await expect(fac.locator(".results-list li")).to_have_count(0)
        await facilitator.page.locator(".follow select").select_option("results")
        await expect(projector.page.locator(".projector-stage")).to_contain_text("the totals appear here when")
        await expect(projector.page.locator(".note", has_text="vote")).to_have_count(0)
        await projector.shot("projector-vote")

        await fac.get_by_role("radio", name="Done").check()  # the vote closes: totals for everyone
        for person in (facilitator, projector, alice):
            results = person.page.locator(".results-list li")
            await expect(results).to_have_count(2)
            await expect(results.first).to_contain_text("2 votes")
            await expect(results.first).to_contain_text("Funders want impact")
            await expect(results.nth(1)).to_contain_text("Leaders never")
        await expect(alice.note("Funders want impact")).to_contain_text("2 votes · 2 yours")
        await projector.shot("projector-results")
        await facilitator.shot("board-results")


EMPTY_SYNC_STEP2 = bytes([0, 1, 2, 0, 0])  # sync message, step 2, an empty update


async def test_a_participant_cannot_change_what_their_role_forbids(api: Api, web_server: Any, browser: Browser) -> None:
    setup = await room_people(api, web_server)
    async with people(browser, *setup["specs"]) as (facilitator, alice, anon, projector):
        await anon.add_note(PUBLIC, "Somebody else's note")
        await expect(alice.note("Somebody else's note")).to_be_visible()
        # The interface offers only what the role allows.
        await expect(alice.page.get_by_role("region", name="Facilitator tools")).to_have_count(0)
        await expect(alice.page.get_by_role("button", name="New cluster")).to_have_count(0)
        await expect(alice.note("Somebody else's note").locator("button:visible")).to_have_count(0)
        await expect(projector.page.get_by_role("button", name=re.compile("Add note to"))).to_have_count(0)

        # Forcing a facilitator-only change anyway: the server refuses it, the participant is told
        # why, and their board starts over from the server's copy instead of looping.
        await alice.page.evaluate("() => window.candor.model.setMeta(window.candor.page.board.doc, { phase: 'done' })")
        await expect(alice.page.get_by_role("alert")).to_contain_text("only a facilitator can change")
        await expect(alice.page.locator(".phase")).to_have_text("Phase: Collect")
        await expect(alice.page.locator(".status")).to_have_attribute("data-status", "connected")
        await expect(facilitator.page.locator(".phase")).to_have_text("Phase: Collect")
        await alice.add_note(PUBLIC, "Still able to take part")
        await expect(facilitator.note("Still able to take part")).to_be_visible()
        await alice.shot("board-refused-change")

        # A locked board: participants are told, and cannot add.
        await facilitator.page.get_by_role("button", name="Lock board").click()
        await expect(alice.page.locator(".banner.locked")).to_be_visible()
        await alice.section(PUBLIC).get_by_role("button", name=re.compile("Add note to")).click()
        await expect(
            alice.page.get_by_role("status").filter(has_text="locked by the facilitator").first
        ).to_be_visible()
        await expect(alice.section(PUBLIC).locator("form.composer")).to_have_count(0)
        await expect(alice.note("Still able").locator("[data-act='edit']")).to_be_hidden()
        await facilitator.page.get_by_role("button", name="Unlock board").click()
        await expect(alice.page.locator(".banner.locked")).to_be_hidden()

    # The projector only ever asked for the board: it never sent a change.
    sync_frames = [f for f in projector.sent_frames if f[:1] == b"\x00"]
    assert sync_frames, "the projector should have synced"
    assert all(f[1] == 0 or f == EMPTY_SYNC_STEP2 for f in sync_frames), sync_frames
