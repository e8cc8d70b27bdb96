"""The room people see, with the seed session's own notes: nothing hides anything, and a projector made for a hall."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from webtools import ARTIFACTS, Api, axe_violations, board_url, describe, open_person, wait_connected

from seed_notes import seed_notes

pytestmark = pytest.mark.asyncio(loop_scope="module")

IDEAS = "practical-ideas"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
HALL = {"width": 1920, "height": 1080}

# Every note at the same few spots, as reveals, plenary copies, imports and two people adding at
# once leave them; two clusters on top of each other, holding notes.
SEED = """([notes, room]) => {
    const { page, model } = window.candor
    const doc = page.board.doc
    doc.transact(() => {
        const ideas = model.createCluster(doc, 'practical-ideas', 'Culture and leadership', 12, 12)
        const funders = model.createCluster(doc, 'practical-ideas', 'Funders', 12, 12)
        notes.forEach(([section, text], i) => {
            const id = model.addNote(doc, {
                section, text, author: 'facilitator', x: (i % 3) * 8, y: (i % 2) * 8,
                scope: i % 4 === 0 ? 'room' : 'event', colour: model.COLOURS[i % 6]
            })
            const cluster = i % 4 ? ideas : funders
            if (section === 'practical-ideas' && i % 2 === 0) model.updateNote(doc, id, { cluster })
        })
    })
}"""

# Boxes of notes and clusters that intersect (a note inside its own cluster is not an overlap),
# and note texts and buttons that are not the topmost element at their own centre.
HIDDEN = """() => {
    const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 }
    const boxes = [...document.querySelectorAll('.sections .note, .sections .cluster')].filter(shown)
    const name = (el) => (el.querySelector('.note-text, .cluster-title, .cluster-label')?.textContent
        || el.querySelector('input')?.value || '').slice(0, 40)
    const overlaps = []
    for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
            const [a, b] = [boxes[i], boxes[j]]
            if (a.contains(b) || b.contains(a)) continue
            const p = a.getBoundingClientRect(), q = b.getBoundingClientRect()
            const w = Math.min(p.right, q.right) - Math.max(p.left, q.left)
            const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top)
            if (w > 0.5 && h > 0.5) overlaps.push(`${name(a)} / ${name(b)}`)
        }
    }
    const covered = []
    const targets = [...document.querySelectorAll('.sections .note-text, .sections .note button')].filter(shown)
    for (const el of targets) {
        el.scrollIntoView({ block: 'center', inline: 'center' })
        const r = el.getBoundingClientRect()
        const top = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 10))
        if (!top || !(top === el || el.contains(top))) {
            covered.push(`${el.textContent.slice(0, 40)} under ${top?.className}`)
        }
    }
    return { boxes: boxes.length, targets: targets.length, overlaps, covered }
}"""


async def seed_board(api: Api, web_server: Any, browser: Browser, title: str, count: int) -> dict[str, Any]:
    event = await api.create_event(title, rooms=1)
    room = event["rooms"][1]["id"]
    url = board_url(web_server.http_url, room, event["facilitator_token"])
    facilitator = await open_person(browser, "facilitator", url)
    await wait_connected(facilitator)
    await facilitator.page.evaluate(SEED, [seed_notes(count), room])
    await expect(facilitator.page.locator(".sections .note")).to_have_count(count)
    return {"event": event, "room": room, "facilitator": facilitator}


async def assert_nothing_hidden(page: Page, what: str, notes: int) -> None:
    found = await page.evaluate(HIDDEN)
    assert found["boxes"] >= notes, f"{what}: only {found['boxes']} boxes"
    assert found["overlaps"] == [], f"{what}: boxes overlap: {found['overlaps']}"
    assert found["covered"] == [], f"{what}: covered: {found['covered']}"


async def test_with_the_seed_notes_at_one_spot_no_note_or_control_hides_another(
    api: Api, web_server: Any, browser: Browser
) -> None:
    setup = await seed_board(api, web_server, browser, "Nothing hides anything", 44)
    facilitator = setup["facilitator"]
    joined = await api.join(setup["event"], "Noor")
    url = board_url(web_server.http_url, setup["room"], joined["token"])
    laptop = await open_person(browser, "laptop", url, viewport=LAPTOP)
    phone = await open_person(browser, "phone", url, viewport=PHONE)
    try:
        for person in (laptop, phone):
            await wait_connected(person)
            await expect(person.page.locator(".sections .note")).to_have_count(44)
        await facilitator.page.set_viewport_size(LAPTOP)
        await assert_nothing_hidden(facilitator.page, "facilitator at 1366", 44)
        await facilitator.page.get_by_role("radio", name="Vote").check()
        await facilitator.page.get_by_role("button", name="Reveal them and move to Vote").click()
        await expect(laptop.page.locator(".budget")).to_be_visible()
        for person, what in ((laptop, "participant at 1366"), (phone, "participant at 390")):
            await expect(person.page.get_by_role("button", name="Give dot to this note")).to_have_count(44)
            await assert_nothing_hidden(person.page, what, 44)
        await expect(laptop.section(IDEAS).locator(".cluster")).to_have_count(2)
        funders = [i for i, (section, _) in enumerate(seed_notes(44)) if section == IDEAS and i % 4 == 0]
        await expect(laptop.section(IDEAS).locator(".cluster[aria-label='Cluster: Funders'] .note")).to_have_count(
            len(funders)
        )
        await laptop.section(IDEAS).scroll_into_view_if_needed()
        await laptop.shot("room-flow-1366")
        await phone.section(IDEAS).scroll_into_view_if_needed()
        await phone.shot("room-flow-390")
        await facilitator.shot("room-flow-facilitator-1366")
        for person in (facilitator, laptop, phone):
            assert not person.errors, person.errors
    finally:
        for person in (facilitator, laptop, phone):
            await person.close()


async def projector_figures(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate(
        """() => {
            const stage = document.querySelector('.projector-stage').getBoundingClientRect()
            const on = [...document.querySelectorAll('.projector-stage .note')].filter((n) => {
                const r = n.getBoundingClientRect()
                return r.left >= stage.left - 1 && r.right <= stage.right + 1
            })
            const sizes = on.map((n) => parseFloat(getComputedStyle(n.querySelector('.note-text')).fontSize))
            const by = on.map((n) => parseFloat(getComputedStyle(n.querySelector('.note-by')).fontSize))
            const right = Math.max(...on.map((n) => n.getBoundingClientRect().right)) - stage.left
            const bottom = Math.max(...on.map((n) => n.getBoundingClientRect().bottom)) - stage.top
            return { shown: on.length, min_px: Math.min(...sizes), by_px: Math.min(...by),
                     width_used: right / stage.width, height_used: bottom / stage.height,
                     pages: window.candor.stage.pages, page: window.candor.stage.page }
        }"""
    )
    return result


async def test_the_projector_fits_the_hall_follows_the_facilitator_and_keeps_room_notes_in_their_room(
    api: Api, web_server: Any, browser: Browser
) -> None:
    measured: dict[str, Any] = {}
    for count in (10, 40):
        setup = await seed_board(api, web_server, browser, f"Projector with {count}", count)
        event = setup["event"]
        screen = await open_person(
            browser, "projector", board_url(web_server.http_url, setup["room"], event["viewer_token"]), viewport=HALL
        )
        try:
            await wait_connected(screen)
            # The room's own screen shows the notes kept in the room too.
            await expect(screen.page.locator(".projector-stage .note")).to_have_count(count)
            await screen.page.wait_for_function("window.candor.stage.fontPx > 0")
            figures = await projector_figures(screen.page)
            measured[f"{count} notes"] = figures
            assert figures["min_px"] >= 24, figures
            assert figures["by_px"] >= 16, figures
            assert figures["width_used"] > 0.5 and figures["height_used"] > 0.5, figures  # never half empty
            assert (found := await axe_violations(screen.page)) == [], describe(found)
            await screen.shot(f"projector-1920-{count}-notes")
            if count == 40:
                # Follow me: one section, one cluster, the results, and the pages of a long view.
                fac = setup["facilitator"].page
                follow = fac.locator(".follow select")
                feelings = "How do we want people to feel when sharing examples of failure?"
                await follow.select_option(label=f"Section: {feelings}")
                await expect(screen.page.locator(".view-title")).to_have_text(feelings)
                await expect(screen.page.locator(".projector-stage .note")).to_have_count(
                    len([1 for s, _ in seed_notes(40) if s == "how-do-we-want-people-to-feel"])
                )
                await screen.shot("projector-1920-section")
                await follow.select_option(label="Cluster: Funders")
                await expect(screen.page.locator(".view-title")).to_have_text("Funders")
                await expect(screen.page.locator(".projector-stage .note")).to_have_count(
                    len([i for i, (s, _) in enumerate(seed_notes(40)) if s == IDEAS and i % 4 == 0])
                )
                await follow.select_option("results")
                await expect(screen.page.locator(".view-title")).to_have_text("Results: notes by votes")
                await follow.select_option("board")
                await fac.evaluate(SEED, [seed_notes(), setup["room"]])  # 84 notes: more than one screen
                await screen.page.wait_for_function("window.candor.stage.pages > 1")
                first = await screen.page.locator(".projector-stage .note:not([inert])").first.text_content()
                await expect(fac.locator(".follow-page")).to_contain_text("Page 1 of")
                await fac.get_by_role("button", name="Next page on the projector").click()
                await expect(screen.page.locator(".page-number")).to_contain_text("Page 2 of")
                assert await screen.page.locator(".projector-stage .note:not([inert])").first.text_content() != first
                paged = await projector_figures(screen.page)
                measured["84 notes, page 2"] = paged
                assert paged["min_px"] >= 24, paged
                await screen.shot("projector-1920-page-2")

                # The plenary screen switched to this room shows only what the room shared beyond itself.
                plenary = next(r["id"] for r in event["rooms"] if r["kind"] == "plenary")
                hall = await open_person(
                    browser, "hall", board_url(web_server.http_url, plenary, event["viewer_token"]), viewport=HALL
                )
                try:
                    await wait_connected(hall)
                    await hall.page.get_by_label("Board shown on this screen").select_option(label="Room 1")
                    await expect(hall.page.locator(".board-subtitle")).to_contain_text("Room 1")
                    await expect(hall.page.locator(".scope-note")).to_contain_text("notes kept in Room 1 are not shown")
                    room_only = seed_notes(40)[0][1]
                    shared = sum(1 for i in range(40) if i % 4) + sum(1 for i in range(44) if i % 4)
                    await expect(hall.page.locator(".projector-stage .note")).to_have_count(shared)
                    await expect(hall.page.locator(".projector-stage .note", has_text=room_only)).to_have_count(0)
                finally:
                    await hall.close()
        finally:
            await screen.close()
            await setup["facilitator"].close()
    (ARTIFACTS / "projector-figures.json").write_text(json.dumps(measured, indent=2))
    print("projector figures:", json.dumps(measured))
