"""The four export formats over HTTP: Markdown like the seed, a self-contained HTML deck, a pptx that opens, JSON
valid against its schema; the endpoints' headers, moments and errors. (tests/export/test_event_deck.py renders a
deck with LibreOffice.)"""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pptx import Presentation
from pptx.util import Emu, Inches, Pt

from boards import call
from workshop import Workshop, fetch, run_workshop

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "export.schema.json").read_text())
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@pytest.fixture(scope="module")
def shop(make_module_server: Any) -> Workshop:
    return asyncio.run(run_workshop(make_module_server(open_rooms=False)))


def get(shop: Workshop, path: str, token: str | None = "facilitator") -> tuple[int, dict[str, str], bytes]:
    chosen = shop.event.facilitator if token == "facilitator" else token
    return fetch(shop.event.server, path, chosen)


def body(shop: Workshop, path: str) -> bytes:
    status, _, content = get(shop, path)
    assert status == 200, content
    return content


# -- JSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "rooms/{room1}/export?format=json",
        "rooms/{room1}/export?format=json&audience=public",
        "rooms/{room1}/export?format=json&at={midpoint}",
        "events/{event}/export?format=json",
        "events/{event}/export?format=json&audience=public",
    ],
)
def test_json_export_is_valid_against_the_schema(shop: Workshop, query: str) -> None:
    path = "/api/" + query.format(room1=shop.room1, event=shop.event.id, midpoint=shop.midpoint)
    document = json.loads(body(shop, path))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(SCHEMA).iter_errors(document)]
    assert errors == []


# -- Markdown -------------------------------------------------------------------------------


def test_markdown_is_shaped_like_the_seed(shop: Workshop) -> None:
    text = body(shop, f"/api/rooms/{shop.room1}/export?format=md").decode()
    lines = text.splitlines()
    assert lines[0] == "# Engage unconference: Room 1"
    ideas = lines.index("## Practical ideas for moving beyond hero stories")
    assert lines[ideas + 2].startswith("*How can we move beyond hero stories")  # the prompt
    culture = lines.index("### Culture (7 votes)")
    assert lines[culture + 2 : culture + 5] == [
        "- Have a 'failure session' at each team meeting *(3 votes · Ada)*",
        "- Find allies and buddies to create safe spaces *(3 votes)*",
        "- Reframe failure as learning *(1 vote · Ben)*",
    ]
    assert "## Define and reverse the problem" in lines and "### Define the problem" in lines


def test_markdown_escapes_what_people_wrote(shop: Workshop) -> None:
    text = body(shop, f"/api/events/{shop.event.id}/export?format=md").decode()
    assert r"- Push for a \<em\>learning\</em\> framing \& start" in text
    assert text.splitlines().count("## Practical ideas for moving beyond hero stories") == 1  # rooms merged


# -- HTML -----------------------------------------------------------------------------------


def test_html_deck_is_one_self_contained_file(shop: Workshop) -> None:
    html = body(shop, f"/api/events/{shop.event.id}/export?format=html").decode()
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"//[A-Za-z0-9.-]+\.[A-Za-z]", html)  # protocol-relative hosts
    assert not re.search(r"\b(src|href)\s*=", html, re.IGNORECASE)
    assert "@import" not in html and "url(" not in html
    assert "<style>" in html and "<script>" in html


def test_html_deck_moves_with_the_keyboard_and_prints_a_slide_per_page(shop: Workshop) -> None:
    html = body(shop, f"/api/rooms/{shop.room1}/export?format=html").decode()
    for key in ("ArrowRight", "ArrowLeft", "PageDown", "PageUp", "Home", "End"):
        assert f'"{key}"' in html
    assert "@media print" in html and "break-after: page" in html
    slides = re.findall(r'<section class="slide[^"]*" id="slide-(\d+)"', html)
    assert slides == [str(n) for n in range(1, len(slides) + 1)] and len(slides) > 2


def test_html_deck_escapes_what_people_wrote(shop: Workshop) -> None:
    html = body(shop, f"/api/events/{shop.event.id}/export?format=html").decode()
    assert "Push for a &lt;em&gt;learning&lt;/em&gt; framing &amp; start" in html
    assert "<em>learning" not in html


# -- pptx -----------------------------------------------------------------------------------


def _deck(shop: Workshop) -> Any:
    return Presentation(io.BytesIO(body(shop, f"/api/events/{shop.event.id}/export?format=pptx")))


def test_pptx_has_a_title_slide_then_themes_never_rooms_and_closes_on_what_next(shop: Workshop) -> None:
    deck = _deck(shop)
    assert (deck.slide_width, deck.slide_height) == (Emu(12192000), Inches(7.5))  # PowerPoint's own 16:9
    titles = [slide.shapes.title.text for slide in deck.slides]
    assert titles[0] == "Engage unconference"
    assert titles.count("Practical ideas for moving beyond hero stories") == 1
    assert not [t for t in titles if t.startswith(("Room", "Plenary"))]
    assert titles[-1] == "What next?"


def test_pptx_slides_hold_the_notes_at_a_readable_size_with_provenance(shop: Workshop) -> None:
    deck = Presentation(io.BytesIO(body(shop, f"/api/rooms/{shop.room1}/export?format=pptx")))
    slides = {slide.shapes.title.text: slide for slide in deck.slides}
    slide = slides["Practical ideas for moving beyond hero stories"]
    texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
    assert any(shop.note("A1").text in text for text in texts)
    body_runs = [
        run
        for shape in slide.shapes
        if shape.has_text_frame and shape != slide.shapes.title and shop.note("A1").text in shape.text_frame.text
        for paragraph in shape.text_frame.paragraphs
        for run in paragraph.runs
    ]
    assert body_runs and all(run.font.size >= Pt(18) for run in body_runs)
    notes = slide.notes_slide.notes_text_frame.text
    assert f"Room 1 (breakout): the board after change {shop.end}" in notes
    assert "\u201cHave a 'failure session' at each team meeting\u201d: Room 1; 3 votes; signed by Ada" in notes
    assert "\u201cFind allies and buddies to create safe spaces\u201d: Room 1; 3 votes; anonymous" in notes


# -- the endpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("md", "text/markdown; charset=utf-8"), ("html", "text/html; charset=utf-8"), ("pptx", PPTX),
     ("json", "application/json")],
)  # fmt: skip
def test_exports_name_their_type_and_file(shop: Workshop, fmt: str, media_type: str) -> None:
    _, headers, _ = get(shop, f"/api/rooms/{shop.room1}/export?format={fmt}&at={shop.midpoint}")
    assert headers["content-type"] == media_type
    assert headers["content-disposition"] == f'attachment; filename="{shop.room1}-seq{shop.midpoint}.{fmt}"'
    assert headers["cache-control"] == "no-store"
    _, headers, _ = get(shop, f"/api/events/{shop.event.id}/export?format={fmt}&audience=public")
    assert re.fullmatch(
        rf'attachment; filename="{shop.event.id}-\d{{8}}T\d{{4}}Z-public\.{fmt}"', headers["content-disposition"]
    )


def test_event_export_at_a_time_takes_each_room_as_it_stood_then(shop: Workshop) -> None:
    history = json.loads(body(shop, f"/api/rooms/{shop.room1}/history?after={shop.midpoint - 1}&limit=1"))
    moment = history["events"][0]["time"]  # when room 1 reached the midpoint
    export = json.loads(body(shop, f"/api/events/{shop.event.id}/export?format=json&at={moment}"))
    seqs = {room["id"]: room["seq"] for room in export["rooms"]}
    assert seqs[shop.room1] <= shop.midpoint + 1  # records within the same millisecond may follow it
    assert seqs[shop.room2] == 1  # nothing written there yet but the template
    assert export["requested_at"] == moment


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("events/{event}/export?format=md&at=5", 400, "ISO 8601"),
        ("events/{event}/export?format=md&audience=room", 400, "audience"),
        ("rooms/{room1}/export?format=md&audience=event", 400, "audience"),
        ("rooms/{room1}/export?format=docx", 400, "format"),
        ("rooms/{room1}/export?format=md&at=end-of-lunch", 400, "end-of-"),
        ("rooms/{room1}/export?format=md&at=yesterday", 400, "ISO 8601"),
        ("rooms/{room1}~u-someone/export?format=md", 403, "drafts"),
        ("rooms/nowhere/export?format=md", 404, "nowhere"),
    ],
)
def test_export_errors_are_clear(shop: Workshop, path: str, status: int, words: str) -> None:
    reply = call(
        shop.event.server,
        "GET",
        "/api/" + path.format(event=shop.event.id, room1=shop.room1),
        token=shop.event.facilitator,
    )
    assert reply.status == status, reply
    assert words in reply.error["message"]


def test_exports_need_the_facilitator(shop: Workshop) -> None:
    participant = shop.event.join("Eve")
    for path in (f"/api/rooms/{shop.room1}/export?format=md", f"/api/events/{shop.event.id}/export?format=md"):
        assert call(shop.event.server, "GET", path, token=participant.token).status == 403
        assert call(shop.event.server, "GET", path, token=shop.event.viewer).status == 403
        assert call(shop.event.server, "GET", path).status == 401
