"""Reach: no accessibility violations of any impact, a usable board at 375 px, and 300 notes without full re-renders."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from webtools import PHONE, Api, axe_violations, board_url, describe, open_person, people, wait_connected

pytestmark = pytest.mark.asyncio(loop_scope="module")

PUBLIC = "define-the-problem"
PRIVATE = "what-did-you-do"


async def assert_accessible(page: Page, what: str) -> None:
    found = await axe_violations(page)
    assert found == [], f"{what}: {describe(found)}"


async def test_board_projector_and_dialogs_have_no_accessibility_violations(
    api: Api, web_server: Any, browser: Browser
) -> None:
    event = await api.create_event("Accessible by design")
    room = event["rooms"][1]["id"]
    base = web_server.http_url
    joined = await api.join(event, "Kai")
    specs = [
        ("facilitator", board_url(base, room, event["facilitator_token"])),
        ("kai", board_url(base, room, joined["token"])),
        ("projector", board_url(base, room, event["viewer_token"])),
    ]
    async with people(browser, *specs) as (facilitator, kai, projector):
        await kai.add_note(PUBLIC, "We only report what went well", colour="green", sign=True)
        await kai.add_note(PUBLIC, "Failure feels risky for careers", colour="pink")
        await kai.add_note(PRIVATE, "A private draft", colour="purple")
        await facilitator.section(PUBLIC).get_by_role("button", name="New cluster").click()
        await facilitator.section(PUBLIC).get_by_label("Cluster label").fill("Culture")
        await facilitator.section(PUBLIC).get_by_label("Cluster label").press("Enter")
        await facilitator.page.get_by_role("radio", name="Vote").check()
        await facilitator.page.get_by_role("button", name=re.compile("Reveal them")).click()
        await facilitator.page.get_by_role("button", name="Start timer").click()
        await expect(kai.page.locator(".timer")).to_be_visible()
        await expect(kai.page.locator(".budget")).to_be_visible()
        await kai.note("only report").get_by_role("button", name="Give dot to this note").click()

        await assert_accessible(kai.page, "participant board")
        await kai.page.get_by_role("button", name="Results").click()
        await kai.page.locator(".presence summary").click()
        await assert_accessible(kai.page, "participant board with results and presence")
        await kai.page.get_by_role("button", name="Free placement").click()
        await kai.section(PUBLIC).get_by_role("button", name=re.compile("Add note to")).click()
        await assert_accessible(kai.page, "participant list view with the note form open")
        await assert_accessible(facilitator.page, "facilitator board")
        await facilitator.note("Failure feels risky").get_by_role("button", name="More actions for note").click()
        await assert_accessible(facilitator.page, "facilitator note dialog")
        await facilitator.shot("board-facilitator-dialog")
        await assert_accessible(projector.page, "projector")
        await facilitator.page.get_by_role("button", name="Close").click()
        await facilitator.page.locator(".follow select").select_option("results")
        await expect(projector.page.locator(".view-title")).to_have_text("Results")
        await assert_accessible(projector.page, "projector showing the results")


async def test_the_board_is_usable_on_a_375px_phone(api: Api, web_server: Any, browser: Browser) -> None:
    event = await api.create_event("On the phone")
    room = event["rooms"][1]["id"]
    joined = await api.join(event, "Noor")
    phone = await open_person(browser, "noor", board_url(web_server.http_url, room, joined["token"]), viewport=PHONE)
    try:
        await wait_connected(phone)
        page = phone.page
        await expect(page.locator(".board-page")).to_have_class(re.compile(r"\bflow\b"))  # list view by default
        add = phone.section(PUBLIC).get_by_role("button", name=re.compile("Add note to"))
        await add.click()
        await page.get_by_label("Note text").fill("Not understanding needs beyond ourselves")
        await page.get_by_role("button", name="Add note", exact=True).click()
        await page.get_by_role("button", name="Cancel").click()
        note = phone.note("needs beyond ourselves")
        await expect(note).to_be_visible()
        box = await note.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        overflow = await page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= PHONE["width"], f"the page scrolls sideways: {overflow}px wide"
        await note.scroll_into_view_if_needed()
        await phone.shot("board-375")
        await add.click()
        await page.get_by_label("Note text").fill("A second thought")
        await phone.shot("board-375-composer")
        await assert_accessible(page, "phone board")
        assert not phone.errors, phone.errors
    finally:
        await phone.close()


OBSERVE = """() => {
    window.__records = []
    for (const el of document.querySelectorAll('.note')) el.__seen = true
    const where = (node) => (node.nodeType === 1 ? node : node.parentElement)
    new MutationObserver((list) => {
        for (const m of list) {
            const el = where(m.target)
            window.__records.push({
                type: m.type,
                attribute: m.attributeName,
                added: [...m.addedNodes].filter((n) => n.nodeType === 1).map((n) => n.className),
                removed: m.removedNodes.length,
                note: el.closest('.note')?.dataset.id || null,
                composer: Boolean(el.closest('form.composer')),
            })
        }
    }).observe(document.querySelector('.sections'),
        { subtree: true, childList: true, attributes: true, characterData: true })
}"""

FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


async def records(page: Page) -> list[dict[str, Any]]:
    await page.evaluate(FRAMES)
    found: list[dict[str, Any]] = await page.evaluate("() => window.__records.splice(0)")
    return found


async def test_a_300_note_board_updates_one_note_at_a_time(api: Api, web_server: Any, browser: Browser) -> None:
    event = await api.create_event("A busy plenary", rooms=1)
    room = event["rooms"][1]["id"]
    base = web_server.http_url
    watcher, writer = await api.join(event), await api.join(event)
    specs = [
        ("facilitator", board_url(base, room, event["facilitator_token"])),
        ("watcher", board_url(base, room, watcher["token"])),
        ("writer", board_url(base, room, writer["token"])),
    ]
    async with people(browser, *specs) as (facilitator, watching, writing):
        await facilitator.page.evaluate(
            """() => {
                const { page, model } = window.candor
                const doc = page.board.doc
                const sections = ['define-the-problem', 'reverse-the-problem', 'practical-ideas']
                doc.transact(() => {
                    for (let i = 0; i < 300; i++) {
                        const slot = model.freeSlot(Math.floor(i / 3), 1100)
                        const text = `Idea number ${i}`
                        model.addNote(doc, { section: sections[i % 3], text, author: 'facilitator', ...slot })
                    }
                })
            }"""
        )
        await expect(watching.page.locator(".note")).to_have_count(300, timeout=20_000)
        await watching.page.evaluate(OBSERVE)

        await writing.add_note(PUBLIC, "One more idea")
        await expect(watching.note("One more idea")).to_be_visible()
        added = await records(watching.page)
        new_notes = [r for r in added if any("note" in c.split() for c in r["added"])]
        assert len(new_notes) == 1, added
        assert len(added) <= 4, f"adding one note caused {len(added)} DOM mutations: {added}"
        untouched = await watching.page.evaluate(
            "() => [...document.querySelectorAll('.note')].filter((el) => el.__seen).length"
        )
        assert untouched == 300  # the same 300 elements, not re-created

        await writing.note("One more idea").focus()
        await writing.page.keyboard.press("Enter")
        await writing.page.get_by_label("Note text").fill("One more idea, edited")
        await writing.page.get_by_label("Note text").press("Enter")
        await expect(watching.note("One more idea, edited")).to_be_visible()
        edited = await records(watching.page)
        assert len({r["note"] for r in edited if r["note"]}) == 1, edited
        assert len(edited) <= 3, f"editing one note caused {len(edited)} DOM mutations: {edited}"

        # Typing a note changes nothing on the board until it is saved.
        await watching.section(PUBLIC).get_by_role("button", name=re.compile("Add note to")).click()
        await records(watching.page)
        await watching.page.keyboard.type("Typing does not re-render the board")
        typed = await records(watching.page)
        assert typed and all(r["composer"] for r in typed), typed
        await watching.shot("board-300-notes")
